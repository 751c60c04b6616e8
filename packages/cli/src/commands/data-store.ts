import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { openEmbeddedStore, type EmbeddedStore } from '@strata/tsdb'
import { CliError } from '../errors.js'

/**
 * Runs `work` on the embedded store in `dir` and closes it afterwards, also on failure (close
 * seals what was written). Reading verbs need an existing store; `create` makes one.
 */
export async function withStore<T>(
  dir: string,
  create: boolean,
  work: (store: EmbeddedStore) => Promise<T>,
): Promise<T> {
  if (!create && !existsSync(join(dir, 'catalogue.db'))) {
    throw new CliError('CLI_FILE_UNREADABLE', `there is no Strata data store in ${dir}`, {
      hint: 'Check --data; a store is created by `strata data import FILE --data DIR` or `strata up --data DIR`.',
    })
  }
  const store = await openEmbeddedStore(dir, { retentionIntervalMs: 0 })
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}
