import Database from 'better-sqlite3'
import { chmodSync, existsSync } from 'node:fs'
import { CloudError } from '../../errors.js'

/**
 * The outbox's own schema, one migration per entry (`user_version` counts them). It lives in
 * its own file, not in the state database: see docs/rule-actions.md ("Where the queue lives").
 */
const migrations: readonly string[] = [
  /* 1: the queue and the dead letters */ `
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    target_key TEXT NOT NULL,
    target TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    taken_at INTEGER,
    last_error TEXT
  ) STRICT;
  CREATE INDEX outbox_by_target ON outbox(target_key, due_at, seq);
  CREATE TABLE dead_letters (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    target_key TEXT NOT NULL,
    target TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    dead_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL
  ) STRICT;
  `,
]

/** A queued message as stored. */
export interface OutboxRow {
  readonly seq: number
  readonly id: string
  readonly target_key: string
  readonly target: string
  readonly body: string
  readonly created_at: number
  /** Attempts so far, this one included once taken. */
  readonly attempts: number
  readonly last_error: string | null
}

/** A dead letter as stored. */
export interface DeadLetterRow {
  readonly seq: number
  readonly id: string
  readonly target_key: string
  readonly target: string
  readonly body: string
  readonly created_at: number
  readonly dead_at: number
  readonly attempts: number
  readonly last_error: string
}

/**
 * The outbox's SQLite file and its statements. WAL with `synchronous = NORMAL`: a commit is a
 * write() to the log, not an fsync, so `enqueue` stays cheap on the ingest path; it survives a
 * crash of the process, and a power cut loses at most the commits since the last checkpoint.
 */
export class OutboxStore {
  readonly #db: Database.Database
  readonly #insert: Database.Statement
  readonly #take: Database.Statement
  readonly #nextDue: Database.Statement
  readonly #delete: Database.Statement
  readonly #reschedule: Database.Statement
  readonly #release: Database.Statement
  readonly #toDead: Database.Statement
  readonly #trimDead: Database.Statement
  readonly #onCommitError: (err: unknown) => void
  #tickOpen = false
  #rows = 0

  /** `onCommitError` hears of a turn's commit that failed (disk full…): its inserts are lost. */
  constructor(path: string, onCommitError: (err: unknown) => void) {
    this.#onCommitError = onCommitError
    let db: Database.Database | undefined
    try {
      db = new Database(path)
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('busy_timeout = 5000')
      migrate(db, path)
      this.#db = db
    } catch (err) {
      db?.close()
      throw new CloudError('CLOUD_STATE_CORRUPT', `cannot open the delivery outbox ${path}`, {
        hint: 'Check the file is a Strata delivery.db; moving it away drops the queued actions.',
        cause: err,
      })
    }
    // Targets carry secrets (webhook keys, broker passwords): owner-only, like cloud.db.
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      if (path !== ':memory:' && existsSync(file)) chmodSync(file, 0o600)
    }
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO outbox (id, target_key, target, body, created_at, due_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    this.#take = db.prepare(
      `UPDATE outbox SET taken_at = @now, attempts = attempts + 1
       WHERE seq IN (SELECT seq FROM outbox
                     WHERE target_key = @key AND taken_at IS NULL AND due_at <= @now
                     ORDER BY due_at, seq LIMIT @limit)
       RETURNING seq, id, target_key, target, body, created_at, attempts, last_error`,
    )
    this.#nextDue = db
      .prepare(`SELECT MIN(due_at) FROM outbox WHERE target_key = ? AND taken_at IS NULL`)
      .pluck()
    this.#delete = db.prepare(`DELETE FROM outbox WHERE seq = ?`)
    this.#reschedule = db.prepare(
      `UPDATE outbox SET taken_at = NULL, due_at = ?, last_error = ? WHERE seq = ?`,
    )
    this.#release = db.prepare(
      `UPDATE outbox SET taken_at = NULL, attempts = MAX(attempts - 1, 0) WHERE seq = ?`,
    )
    this.#toDead = db.prepare(
      `INSERT OR REPLACE INTO dead_letters
         (id, target_key, target, body, created_at, dead_at, attempts, last_error)
       SELECT id, target_key, target, body, created_at, @now, @attempts, @error
       FROM outbox WHERE seq = @seq`,
    )
    this.#trimDead = db.prepare(
      `DELETE FROM dead_letters WHERE seq IN (SELECT seq FROM dead_letters ORDER BY seq LIMIT ?)`,
    )
    this.#rows = this.count()
  }

  /** Messages in the outbox (queued and in flight), kept in memory: `enqueue` checks it. */
  get rows(): number {
    return this.#rows
  }

  /** The raw handle, for the listing queries of {@link DeadLetters}. */
  get db(): Database.Database {
    return this.#db
  }

  /**
   * Makes entries taken by a process that died without confirming them due again at once
   * (at least once). Their attempt stays counted, so a message that kills the process on
   * every attempt ends as a dead letter instead of a crash loop.
   */
  recoverTaken(): number {
    return this.#db.prepare(`UPDATE outbox SET taken_at = NULL WHERE taken_at IS NOT NULL`).run()
      .changes
  }

  count(): number {
    return this.#db.prepare(`SELECT COUNT(*) FROM outbox`).pluck().get() as number
  }

  countDead(): number {
    return this.#db.prepare(`SELECT COUNT(*) FROM dead_letters`).pluck().get() as number
  }

  targetKeys(): string[] {
    return this.#db.prepare(`SELECT DISTINCT target_key FROM outbox`).pluck().all() as string[]
  }

  /**
   * Inserts inside a transaction that stays open until the end of this event-loop turn, so
   * every message queued in one turn shares one commit. Returns false for an id already queued.
   */
  insert(id: string, targetKey: string, target: string, body: string, now: number): boolean {
    this.#openTick()
    const inserted = this.#insert.run(id, targetKey, target, body, now, now).changes > 0
    if (inserted) this.#rows++
    return inserted
  }

  /** Takes up to `limit` due entries of one target: marks them taken and counts the attempt. */
  take(key: string, now: number, limit: number): OutboxRow[] {
    return this.#take.all({ key, now, limit }) as OutboxRow[]
  }

  /** When the target's next untaken entry is due, if it has one. */
  nextDue(key: string): number | undefined {
    const due = this.#nextDue.get(key) as number | null
    return due ?? undefined
  }

  /** The message was delivered: it leaves the outbox. */
  complete(seq: number): void {
    this.#rows -= this.#delete.run(seq).changes
  }

  /** The attempt failed: the entry is due again at `dueAt`. */
  reschedule(seq: number, dueAt: number, error: string): void {
    this.#reschedule.run(dueAt, error, seq)
  }

  /** The attempt was abandoned (closing): not counted, due again as it was. */
  release(seq: number): void {
    this.#release.run(seq)
  }

  /** Moves an entry to the dead letters; drops the oldest beyond `maxDead`; returns how many. */
  deadLetter(seq: number, now: number, attempts: number, error: string, maxDead: number): number {
    return this.#db.transaction(() => {
      this.#toDead.run({ seq, now, attempts, error })
      this.#rows -= this.#delete.run(seq).changes
      const excess = this.countDead() - maxDead
      return excess > 0 ? this.#trimDead.run(excess).changes : 0
    })()
  }

  /**
   * Moves a dead letter back into the outbox as a fresh message (attempts and age reset, due
   * now). Returns its target key; undefined when there is no dead letter with that id.
   */
  requeueDead(id: string, now: number): string | undefined {
    return this.#db.transaction(() => {
      const key = this.#db
        .prepare(`SELECT target_key FROM dead_letters WHERE id = ?`)
        .pluck()
        .get(id) as string | undefined
      if (key === undefined) return undefined
      const moved = this.#db
        .prepare(
          `INSERT OR IGNORE INTO outbox (id, target_key, target, body, created_at, due_at)
           SELECT id, target_key, target, body, @now, @now FROM dead_letters WHERE id = @id`,
        )
        .run({ id, now }).changes
      this.#db.prepare(`DELETE FROM dead_letters WHERE id = ?`).run(id)
      this.#rows += moved
      return key
    })()
  }

  /** Commits the open turn's inserts now (they would be at the end of the turn anyway). */
  flush(): void {
    if (!this.#tickOpen) return
    this.#tickOpen = false
    try {
      if (this.#db.inTransaction) this.#db.exec('COMMIT')
    } catch (err) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK')
      this.#rows = this.count()
      this.#onCommitError(err)
    }
  }

  close(): void {
    if (!this.#db.open) return
    this.flush()
    this.#db.close()
  }

  #openTick(): void {
    if (this.#tickOpen) return
    this.#db.exec('BEGIN IMMEDIATE')
    this.#tickOpen = true
    setImmediate(() => {
      if (this.#db.open) this.flush()
    })
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > migrations.length) {
    throw new Error(
      `${path} has schema version ${String(version)}; this build knows up to ${String(migrations.length)}`,
    )
  }
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v] ?? '')
      db.pragma(`user_version = ${String(v + 1)}`)
    })()
  }
}
