import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Catalogue } from './catalogue.js'
import { lockDataFolder } from './data-folder-lock.js'
import type { EmbeddedStoreOptions } from './embedded-options.js'
import { EmbeddedStore } from './embedded-store.js'
import { replayedOverSealed } from './seal-plan.js'
import { SeriesIndex } from './series-index.js'
import { WriteAheadLog } from './wal.js'
import { readWriteRecord } from './wal-record.js'

/**
 * Opens (creating if needed) the embedded store in `dir`: `catalogue.db` (SQLite: series, chunks,
 * rollups, retention), `wal/` (the write-ahead log) and a `LOCK` file. Replays the log, so
 * every acknowledged write is there.
 */
export async function openEmbeddedStore(
  dir: string,
  options: EmbeddedStoreOptions = {},
): Promise<EmbeddedStore> {
  mkdirSync(dir, { recursive: true })
  const unlock = lockDataFolder(join(dir, 'LOCK'))
  let catalogue: Catalogue | undefined
  let store: EmbeddedStore
  let resealed: boolean
  try {
    const precision = options.precision ?? 'ms'
    catalogue = new Catalogue(join(dir, 'catalogue.db'), precision)
    const index = new SeriesIndex()
    for (const row of catalogue.allSeries()) index.add(row)
    let headPoints = 0
    const { wal, replay } = await WriteAheadLog.open(join(dir, 'wal'), (payload) => {
      for (const s of readWriteRecord(payload)) {
        index.byId(s.seriesId)?.head.append(s.times, s.values)
        headPoints += s.times.length
      }
    })
    store = new EmbeddedStore(
      dir,
      { ...options, precision },
      { catalogue, index, wal, unlock, headPoints, tornBytes: replay.tornBytes },
    )
    resealed = replayedOverSealed(index, catalogue)
  } catch (err) {
    catalogue?.close()
    unlock()
    throw err
  }
  // Background seals leave their points in the log until the next checkpoint: after a crash
  // the replay puts them back into the head beside their chunks. Sealing them now (merged with
  // those chunks) keeps the store from counting a point twice.
  if (resealed) {
    try {
      await store.checkpoint()
    } catch (err) {
      await store.close().catch(() => undefined)
      throw err
    }
  }
  return store
}
