import pg from 'pg'
import { TsdbError } from '../errors.js'
import { throwIfAborted } from '../model/limits.js'

/** SQLSTATE of a statement cancelled by pg_cancel_backend. */
const queryCanceled = '57014'

/**
 * The store's connection pool. Every connection has `search_path` set to the store's schema, so
 * SQL names tables unqualified. Queries that take an AbortSignal cancel their statement on the
 * server when it fires, and every failure leaves as a `TsdbError`.
 */
export class Database {
  readonly schema: string
  readonly #config: pg.ClientConfig
  readonly #pool: pg.Pool
  readonly #pids = new WeakMap<pg.PoolClient, number>()

  constructor(url: string, schema: string, poolSize: number) {
    this.schema = schema
    this.#config = {
      connectionString: url,
      application_name: 'strata-tsdb',
      options: `-c search_path=${schema} -c TimeZone=UTC`,
    }
    this.#pool = new pg.Pool({ ...this.#config, max: poolSize })
    // An idle connection that dies (server restart) is dropped by the pool; the next query reports.
    this.#pool.on('error', () => undefined)
  }

  /** Runs one statement. */
  async query<R extends pg.QueryResultRow>(
    sql: string,
    params: readonly unknown[] = [],
    signal?: AbortSignal,
  ): Promise<R[]> {
    return this.withClient((client) => client.query<R>(sql, params as unknown[]), signal).then(
      (result) => result.rows,
    )
  }

  /**
   * Runs `fn` on one connection. When `signal` fires, the running statement is cancelled on the
   * server and the connection is discarded rather than reused (a late cancel must not hit the
   * next user's statement).
   */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal)
    const client = await this.#connect()
    let aborted = false
    const onAbort = () => {
      aborted = true
      void this.#cancel(client)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const result = await fn(client)
      throwIfAborted(signal)
      return result
    } catch (err) {
      throw translate(err, signal)
    } finally {
      signal?.removeEventListener('abort', onAbort)
      client.release(aborted)
    }
  }

  /** Runs `fn` in a transaction (READ COMMITTED), rolled back when it throws. */
  async transaction<T>(
    fn: (client: pg.PoolClient) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.withClient(async (client) => {
      await client.query('BEGIN')
      try {
        const result = await fn(client)
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw err
      }
    }, signal)
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }

  /** A pooled connection, its backend pid remembered for cancelling. */
  async #connect(): Promise<pg.PoolClient> {
    let client: pg.PoolClient | undefined
    try {
      client = await this.#pool.connect()
      if (!this.#pids.has(client)) {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
        this.#pids.set(client, (rows[0] as { pid: number }).pid)
      }
      return client
    } catch (err) {
      client?.release(true)
      throw translate(err, undefined)
    }
  }

  /** Asks the server, on a separate connection, to cancel what `client` runs now. */
  async #cancel(client: pg.PoolClient): Promise<void> {
    const pid = this.#pids.get(client)
    if (pid === undefined) return
    const canceller = new pg.Client(this.#config)
    canceller.on('error', () => undefined)
    try {
      await canceller.connect()
      await canceller.query('SELECT pg_cancel_backend($1)', [pid])
    } catch {
      // The statement then runs to its end; the caller already got TSDB_QUERY_ABORTED.
    } finally {
      await canceller.end().catch(() => undefined)
    }
  }
}

/** A failure as a TsdbError: aborted when the caller's signal fired, else TSDB_IO. */
function translate(err: unknown, signal: AbortSignal | undefined): unknown {
  if (err instanceof TsdbError) return err
  const code = (err as { code?: unknown }).code
  if (signal?.aborted === true || code === queryCanceled) {
    return new TsdbError('TSDB_QUERY_ABORTED', 'the query was aborted by its caller', {
      cause: signal?.reason ?? err,
    })
  }
  return new TsdbError(
    'TSDB_IO',
    `PostgreSQL: ${err instanceof Error ? err.message : String(err)}`,
    {
      cause: err,
      retryable: true,
      ...(typeof code === 'string' ? { details: { sqlstate: code } } : {}),
    },
  )
}
