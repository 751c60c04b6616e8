import Database from 'better-sqlite3'
import { chmodSync } from 'node:fs'
import { CloudError } from '../errors.js'
import { migrations } from './schema.js'

/** The node's state database (SQLite): registry, accounts, secrets' hashes, audit chain. */
export type StateDb = Database.Database

/**
 * Opens (creating when absent) the state database at `path` and runs the migrations it lacks, in
 * one transaction each. A database from a newer build is refused rather than guessed at.
 *
 * @example
 * const db = openStateDb(join(dataDir, 'cloud.db'))
 */
export function openStateDb(path: string): StateDb {
  let db: StateDb
  try {
    db = new Database(path)
    if (path !== ':memory:') chmodSync(path, 0o600)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
  } catch (err) {
    throw new CloudError('CLOUD_STATE_CORRUPT', `cannot open the state database ${path}`, {
      hint: 'Check the file is a Strata cloud.db and readable; restore it from a backup if damaged.',
      cause: err,
    })
  }
  migrate(db, path)
  return db
}

function migrate(db: StateDb, path: string): void {
  let version: number
  try {
    version = db.pragma('user_version', { simple: true }) as number
  } catch (err) {
    db.close()
    throw new CloudError('CLOUD_STATE_CORRUPT', `${path} is not a SQLite database`, {
      hint: 'Point --data at a Strata data folder, or move the file away.',
      cause: err,
    })
  }
  if (version > migrations.length) {
    db.close()
    throw new CloudError(
      'CLOUD_STATE_CORRUPT',
      `${path} has schema version ${String(version)}; this build knows up to ${String(migrations.length)}`,
      { hint: 'Run the newer Strata build that wrote it.' },
    )
  }
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v] ?? '')
      db.pragma(`user_version = ${String(v + 1)}`)
    })()
  }
}
