import type Database from 'better-sqlite3'
import type { BrokerMessage } from '../message.js'
import type { Subscription } from '../topics/subscription.js'
import { DiskIndex } from './disk-index.js'
import type { OutgoingEntry, SessionMeta, SessionStore, StoredSession } from './session-store.js'
import { applyBatch, MessageIds } from './sqlite-commit.js'
import { loadAll } from './sqlite-load.js'
import { openDatabase, storeFailure, type Synchronous } from './sqlite-schema.js'
import { prepareStatements, type Statements } from './sqlite-statements.js'
import { closedError, noSessionError } from './store-error.js'
import { WriteBatch } from './write-batch.js'

/** Options of `openSqliteSessionStore`. */
export interface SqliteSessionStoreOptions {
  /** The file; created with the current schema if absent. */
  readonly path: string
  /** Epoch ms; times commits for `stats()`. Default `Date.now`. */
  readonly clock?: () => number
  /**
   * `'normal'` (default) survives a killed or crashed process: in WAL mode a commit has handed its
   * pages to the kernel with write() before flush() resolves, and the kernel writes them out even
   * if the process dies. Power loss or a kernel crash can lose the last commits (the file stays
   * consistent). `'full'` also fsyncs the WAL on every commit, surviving power loss at the cost
   * of one fsync per flush.
   */
  readonly synchronous?: Synchronous
  /** Run `PRAGMA quick_check` when opening (default true); O(file size), ~1 s per GB. */
  readonly checkOnOpen?: boolean
}

/** Counters of a SQLite session store, for metrics. */
export interface SqliteSessionStoreStats {
  /** Transactions committed. */
  readonly commits: number
  /** Writes that never reached the file because a later write of the same batch undid them. */
  readonly cancelledWrites: number
  /** How long the last commit took, by the injected clock (ms). */
  readonly lastCommitMs: number
}

interface Deferred {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

/**
 * Opens (creating if absent) a session store in one SQLite file, owned by this process alone.
 * Throws MQTT_STORE_CORRUPT when the file is not a readable session store, MQTT_STORE_IO when it
 * cannot be opened (another process holds it, permissions, disk).
 *
 * @example
 * const store = openSqliteSessionStore({ path: 'data/mqtt-sessions.db' })
 * const { sessions, retained } = await store.load()
 * store.putOutgoing('dev-1', entry)
 * await store.flush() // entry is durable: acknowledge the publisher now
 * await store.close()
 */
export function openSqliteSessionStore(options: SqliteSessionStoreOptions): SqliteSessionStore {
  const { path } = options
  const db = openDatabase(path, options.synchronous ?? 'normal', options.checkOnOpen ?? true)
  try {
    const st = prepareStatements(db)
    const disk = DiskIndex.read(st)
    const ids = new MessageIds(st.maxMessageId.get() ?? 0)
    return new SqliteSessionStore(path, db, st, disk, ids, options.clock ?? Date.now)
  } catch (err) {
    db.close()
    throw storeFailure(err, path, 'opening', 'corrupt')
  }
}

/**
 * A SessionStore in one SQLite file (see sqlite-schema.ts for its tables). Writes go to an
 * in-memory WriteBatch; `flush()` commits every write of the event-loop turn in one transaction
 * (group commit), and writes undone within a batch never touch the file. Create it with
 * `openSqliteSessionStore`.
 *
 * @example
 * store.putOutgoing('dev-1', { seq: 7, state: 'inflight', packetId: 3, message, qos: 1, retain: false })
 * store.deleteOutgoing('dev-1', 7) // PUBACK before the flush: neither write reaches the file
 * await store.flush()
 * store.stats() // { commits: 0, cancelledWrites: 2, lastCommitMs: 0 }
 */
export class SqliteSessionStore implements SessionStore {
  readonly path: string
  readonly #db: Database.Database
  readonly #st: Statements
  readonly #disk: DiskIndex
  readonly #ids: MessageIds
  readonly #clock: () => number
  readonly #commitTx: (batch: WriteBatch) => void
  /** Sessions that exist once every recorded write is applied: puts to others are refused. */
  #live: Set<string>
  #batch = new WriteBatch()
  #scheduled: Deferred | undefined
  #closing: Promise<void> | undefined
  #commits = 0
  #cancelledBefore = 0
  #lastCommitMs = 0

  /** @internal Use openSqliteSessionStore. */
  constructor(
    path: string,
    db: Database.Database,
    st: Statements,
    disk: DiskIndex,
    ids: MessageIds,
    clock: () => number,
  ) {
    this.path = path
    this.#db = db
    this.#st = st
    this.#disk = disk
    this.#ids = ids
    this.#clock = clock
    this.#live = new Set(disk.sessionIds())
    this.#commitTx = db.transaction((batch: WriteBatch) => applyBatch(st, ids, disk, batch))
  }

  /** Commits what is pending, then reads everything; see loadAll. */
  load(): Promise<{ sessions: StoredSession[]; retained: BrokerMessage[] }> {
    try {
      this.#checkOpen('load')
      this.#commit()
      return Promise.resolve(loadAll(this.#st, this.#ids))
    } catch (err) {
      return Promise.reject(storeFailure(err, this.path, 'loading', 'corrupt'))
    }
  }

  upsertSession(meta: SessionMeta): void {
    this.#checkOpen('upsertSession')
    this.#batch.upsertSession(meta)
    this.#live.add(meta.clientId)
  }

  deleteSession(clientId: string): void {
    this.#checkOpen('deleteSession')
    this.#batch.deleteSession(clientId, this.#disk.hasSession(clientId))
    this.#live.delete(clientId)
  }

  putSubscription(clientId: string, subscription: Subscription): void {
    this.#checkLive(clientId, 'putSubscription')
    this.#batch.putSubscription(clientId, subscription)
  }

  deleteSubscription(clientId: string, filter: string): void {
    if (this.#isLive(clientId, 'deleteSubscription')) {
      this.#batch.deleteSubscription(clientId, filter)
    }
  }

  putOutgoing(clientId: string, entry: OutgoingEntry): void {
    this.#checkLive(clientId, 'putOutgoing')
    this.#batch.putOutgoing(clientId, entry)
  }

  deleteOutgoing(clientId: string, seq: number): void {
    if (this.#isLive(clientId, 'deleteOutgoing')) {
      this.#batch.deleteOutgoing(clientId, seq, this.#disk.mayHaveOutgoing(clientId, seq))
    }
  }

  putIncomingQos2(clientId: string, packetId: number): void {
    this.#checkLive(clientId, 'putIncomingQos2')
    this.#batch.putIncomingQos2(clientId, packetId)
  }

  deleteIncomingQos2(clientId: string, packetId: number): void {
    if (this.#isLive(clientId, 'deleteIncomingQos2')) {
      const onDisk = this.#disk.mayHaveIncomingQos2(clientId, packetId)
      this.#batch.deleteIncomingQos2(clientId, packetId, onDisk)
    }
  }

  putRetained(message: BrokerMessage): void {
    this.#checkOpen('putRetained')
    this.#batch.putRetained(message)
  }

  deleteRetained(topic: string): void {
    this.#checkOpen('deleteRetained')
    this.#batch.deleteRetained(topic)
  }

  /**
   * Resolves when every write recorded before the call is committed. Calls in one event-loop turn
   * share one transaction, run from setImmediate so the writes of that whole turn are in it.
   */
  flush(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    if (this.#batch.isEmpty) return Promise.resolve()
    if (this.#scheduled === undefined) {
      this.#scheduled = deferred()
      setImmediate(() => {
        this.#commitScheduled()
      })
    }
    return this.#scheduled.promise
  }

  /** Commits what is pending and closes the file. Idempotent; later writes throw. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  stats(): SqliteSessionStoreStats {
    return {
      commits: this.#commits,
      cancelledWrites: this.#cancelledBefore + this.#batch.cancelled,
      lastCommitMs: this.#lastCommitMs,
    }
  }

  /** A failed last commit is a rejected promise, never a throw; the file is closed either way. */
  #close(): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        this.#commitScheduled(true)
      } finally {
        this.#db.close()
      }
      resolve()
    })
  }

  /** Runs the scheduled commit (or, closing, the last one) and settles its waiters. */
  #commitScheduled(rethrow = false): void {
    const waiting = this.#scheduled
    this.#scheduled = undefined
    try {
      this.#commit()
      waiting?.resolve()
    } catch (err) {
      waiting?.reject(err)
      if (rethrow) throw err
    }
  }

  /**
   * Applies the batch in one transaction. On failure SQLite rolled it back: a retryable batch
   * (disk full, I/O error) is kept for the next flush, any other is dropped, and the sessions
   * known to exist are reset to those on disk so later writes stay consistent with the file.
   */
  #commit(): void {
    const batch = this.#batch
    if (batch.isEmpty) return
    const startedMs = this.#clock()
    try {
      this.#commitTx(batch)
    } catch (err) {
      const error = storeFailure(err, this.path, 'committing', 'io')
      if (!error.retryable) this.#replaceBatch(new Set(this.#disk.sessionIds()))
      throw error
    }
    this.#disk.committed(batch)
    this.#replaceBatch(this.#live)
    this.#commits++
    this.#lastCommitMs = this.#clock() - startedMs
  }

  #replaceBatch(live: Set<string>): void {
    this.#cancelledBefore += this.#batch.cancelled
    this.#batch = new WriteBatch()
    this.#live = live
  }

  #checkOpen(what: string): void {
    if (this.#closing !== undefined) throw closedError(what)
  }

  #checkLive(clientId: string, what: string): void {
    this.#checkOpen(what)
    if (!this.#live.has(clientId)) throw noSessionError(clientId, what)
  }

  #isLive(clientId: string, what: string): boolean {
    this.#checkOpen(what)
    return this.#live.has(clientId)
  }
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
