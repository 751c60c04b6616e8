import fs from 'node:fs'
import Database from 'better-sqlite3'
import { StoreError } from './store-error.js'

/**
 * The session store file, schema version 1 (`PRAGMA user_version`), tagged with
 * `PRAGMA application_id` 0x4D515453 ("MQTS") so a foreign SQLite file is refused, not reused.
 *
 * ```
 * messages       id PK · topic · payload BLOB · qos · retain · properties JSON|NULL ·
 *                created_at_ms · expires_at_ms · publisher_client_id
 *                  ▲ one row per BrokerMessage object, however many sessions owe it
 * sessions       client_id PK · protocol_version · expiry_interval_sec · disconnected_at_ms ·
 *                identity_id · will_message_id → messages · will_publish_at_ms
 * subscriptions  (client_id, filter) PK · qos · no_local · retain_as_published ·
 *                retain_handling · subscription_id
 * outgoing       (client_id, seq) PK · state · packet_id · message_id → messages · qos ·
 *                retain · subscription_ids JSON|NULL
 * incoming_qos2  (client_id, packet_id) PK
 * retained       topic PK · message_id → messages
 * ```
 * A message row lives while an outgoing row, a retained row or a will refers to it; commits
 * delete the rows whose last reference they removed (indexes on each `message_id` make that a
 * lookup). Timestamps are REAL so a fractional clock round-trips (epoch ms are exact in a double).
 * STRICT tables make SQLite reject a value of the wrong type instead of storing it.
 */
export const schemaVersion = 1

const applicationId = 0x4d515453

/** migrations[i] takes the schema from version i to i + 1. */
const migrations: readonly string[] = [
  `CREATE TABLE messages (
     id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,
     qos INTEGER NOT NULL, retain INTEGER NOT NULL, properties TEXT,
     created_at_ms REAL NOT NULL, expires_at_ms REAL, publisher_client_id TEXT) STRICT;
   CREATE TABLE sessions (
     client_id TEXT PRIMARY KEY, protocol_version INTEGER NOT NULL,
     expiry_interval_sec INTEGER NOT NULL, disconnected_at_ms REAL, identity_id TEXT,
     will_message_id INTEGER, will_publish_at_ms REAL) STRICT, WITHOUT ROWID;
   CREATE INDEX sessions_will ON sessions (will_message_id) WHERE will_message_id IS NOT NULL;
   CREATE TABLE subscriptions (
     client_id TEXT NOT NULL, filter TEXT NOT NULL, qos INTEGER NOT NULL,
     no_local INTEGER NOT NULL, retain_as_published INTEGER NOT NULL,
     retain_handling INTEGER NOT NULL, subscription_id INTEGER,
     PRIMARY KEY (client_id, filter)) STRICT, WITHOUT ROWID;
   CREATE TABLE outgoing (
     client_id TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL, packet_id INTEGER,
     message_id INTEGER NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
     subscription_ids TEXT, PRIMARY KEY (client_id, seq)) STRICT, WITHOUT ROWID;
   CREATE INDEX outgoing_message ON outgoing (message_id);
   CREATE TABLE incoming_qos2 (
     client_id TEXT NOT NULL, packet_id INTEGER NOT NULL,
     PRIMARY KEY (client_id, packet_id)) STRICT, WITHOUT ROWID;
   CREATE TABLE retained (
     topic TEXT PRIMARY KEY, message_id INTEGER NOT NULL) STRICT, WITHOUT ROWID;
   CREATE INDEX retained_message ON retained (message_id);
   PRAGMA application_id = ${String(applicationId)};`,
]

/** How hard a commit makes itself durable; see `SqliteSessionStoreOptions.synchronous`. */
export type Synchronous = 'normal' | 'full'

const corruptHint =
  'Move the file aside to start with empty sessions; keep it for analysis (`sqlite3 FILE .recover` may salvage rows).'
const ioHint =
  'Check free disk space, permissions, and that no other broker process uses the same file.'

/**
 * Opens (creating if absent) and migrates the store file, then checks its pages. Every failure is
 * a StoreError naming the path; nothing is deleted or rewritten on the way.
 */
export function openDatabase(
  path: string,
  synchronous: Synchronous,
  checkOnOpen: boolean,
): Database.Database {
  checkHeader(path)
  let db: Database.Database
  try {
    // A second broker on the same file would interleave two views of the sessions; fail fast.
    db = new Database(path, { timeout: 1000 })
  } catch (err) {
    throw storeFailure(err, path, 'opening', 'io')
  }
  try {
    // EXCLUSIVE before the first read: one process owns the file, and WAL needs no -shm file.
    db.pragma('locking_mode = EXCLUSIVE')
    // Identify before anything writes: switching to WAL rewrites the header of a foreign file.
    const version = identify(db, path)
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    // After a burst (a large fan-out) the WAL shrinks back to this at the next checkpoint.
    db.pragma('journal_size_limit = 67108864')
    // Checks each cell's size when its page is read: turns more damage into SQLITE_CORRUPT.
    db.pragma('cell_size_check = ON')
    migrate(db, version)
    if (checkOnOpen) quickCheck(db, path)
    return db
  } catch (err) {
    db.close()
    throw storeFailure(err, path, 'opening', 'corrupt')
  }
}

const sqliteMagic = Buffer.from('SQLite format 3\0', 'latin1')

/**
 * Refuses a non-empty file without a whole SQLite header before SQLite sees it: SQLite takes a
 * file of a few bytes for an empty database and would write a new schema over it.
 */
function checkHeader(path: string): void {
  let fd: number
  try {
    fd = fs.openSync(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw storeFailure(err, path, 'opening', 'io')
  }
  try {
    const header = Buffer.alloc(100)
    const read = fs.readSync(fd, header, 0, header.length, 0)
    if (read === 0 || (read === 100 && header.subarray(0, 16).equals(sqliteMagic))) return
    throw corrupt(path, `is not an SQLite database (${String(read)}-byte header without the magic)`)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * The file's schema version, 0 for a new file. The first read of the file: garbage fails here
 * with SQLITE_NOTADB. Refuses another application's database and a newer schema.
 */
function identify(db: Database.Database, path: string): number {
  const version = Number(db.pragma('user_version', { simple: true }))
  const appId = Number(db.pragma('application_id', { simple: true }))
  if (version === 0) {
    const tables = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get()
    if (tables !== 0) throw corrupt(path, 'is an SQLite database but not a session store')
  } else if (appId !== applicationId) {
    throw corrupt(path, `has application_id ${String(appId)}, not a session store`)
  } else if (version > schemaVersion) {
    throw corrupt(
      path,
      `has schema version ${String(version)}; this build knows up to ${String(schemaVersion)}`,
      'Run the Strata version that wrote the file, or move the file aside to start empty.',
    )
  }
  return version
}

/** Runs the migrations from `version` up, each in its own transaction. */
function migrate(db: Database.Database, version: number): void {
  for (let v = version; v < schemaVersion; v++) {
    db.transaction(() => {
      db.exec(migrations[v] ?? '')
      db.pragma(`user_version = ${String(v + 1)}`)
    })()
  }
}

/** `PRAGMA quick_check`: every b-tree page well formed; O(file size), a second per ~GB here. */
function quickCheck(db: Database.Database, path: string): void {
  const results = db.prepare('PRAGMA quick_check(3)').pluck().all()
  if (results.length === 1 && results[0] === 'ok') return
  throw corrupt(path, `failed quick_check: ${results.map(String).join('; ')}`)
}

function corrupt(path: string, what: string, hint = corruptHint): StoreError {
  return new StoreError('MQTT_STORE_CORRUPT', `session store ${path} ${what}`, { hint })
}

const corruptCodes = /^SQLITE_(CORRUPT|NOTADB|FORMAT)/
const retryableCodes = /^SQLITE_(IOERR|FULL|BUSY|LOCKED|NOMEM)/
const ioCodes = /^SQLITE_(IOERR|FULL|BUSY|LOCKED|NOMEM|CANTOPEN|READONLY|PERM|AUTH|PROTOCOL)/

/**
 * Translates what better-sqlite3 threw while `doing` something to a StoreError naming the path.
 * Damage codes are MQTT_STORE_CORRUPT, I/O and lock codes MQTT_STORE_IO (retryable when a later
 * attempt may succeed); anything else is `fallback`: corrupt while reading (the file holds what
 * the schema does not allow), I/O while writing.
 */
export function storeFailure(
  err: unknown,
  path: string,
  doing: string,
  fallback: 'corrupt' | 'io',
): StoreError {
  if (err instanceof StoreError) {
    if (err.message.includes(path)) return err
    return new StoreError(err.code, `session store ${path}: ${err.message}`, {
      hint: err.hint ?? corruptHint,
      cause: err,
    })
  }
  const code = err instanceof Database.SqliteError ? err.code : ''
  const message = err instanceof Error ? err.message : String(err)
  const isCorrupt = corruptCodes.test(code) || (!ioCodes.test(code) && fallback === 'corrupt')
  return new StoreError(
    isCorrupt ? 'MQTT_STORE_CORRUPT' : 'MQTT_STORE_IO',
    `session store ${path}: ${doing} failed: ${code === '' ? '' : `${code} `}${message}`,
    {
      hint: isCorrupt ? corruptHint : ioHint,
      retryable: retryableCodes.test(code),
      cause: err,
      details: { path, ...(code === '' ? {} : { sqliteCode: code }) },
    },
  )
}
