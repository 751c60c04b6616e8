/**
 * NATS for tests (BRIEF §7), shared by every package's tests:
 *
 * 1. `STRATA_TEST_NATS` (a `nats://host:port` URL) when set;
 * 2. else the local server at 127.0.0.1:4222 when it answers within a second
 *    (`STRATA_TEST_NATS_PROBE=host:port` probes elsewhere, for example a closed port to exercise
 *    the fallback);
 * 3. else Debian's `nats-server` (with JetStream), started once per test process on a random
 *    port with its files in a temporary folder, and killed when this process ends, however it
 *    ends (`setpriv --pdeathsig`).
 *
 * Tests share the server: each uses its own subjects (see {@link uniqueSubject}).
 *
 * @example
 * const url = await testNatsUrl()
 * const nc = await connect({ servers: [url] })
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const probeTimeoutMs = 1000
const startTimeoutMs = 15_000
const natsServerBin = '/usr/sbin/nats-server'

let server: Promise<string> | undefined

/** The URL of a NATS server tests may use (memoised per process). */
export function testNatsUrl(): Promise<string> {
  server ??= findServer()
  return server
}

/** A subject no other test uses: `strata.test.<name>.<random>`. */
export function uniqueSubject(name: string): string {
  return `strata.test.${name.replace(/[^A-Za-z0-9_-]+/g, '_')}.${randomBytes(4).toString('hex')}`
}

async function findServer(): Promise<string> {
  const configured = process.env['STRATA_TEST_NATS']
  if (configured !== undefined && configured !== '') return configured
  const probe = process.env['STRATA_TEST_NATS_PROBE'] ?? '127.0.0.1:4222'
  if (await answers(probe)) return `nats://${probe}`
  return startServer()
}

/** Whether a NATS server greets (`INFO {…}`) at host:port within the probe timeout. */
function answers(hostPort: string): Promise<boolean> {
  const [host = '127.0.0.1', port = '4222'] = hostPort.split(':')
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port: Number(port) })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(probeTimeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.once('data', (data) => done(data.toString('latin1').startsWith('INFO ')))
  })
}

async function startServer(): Promise<string> {
  if (!existsSync(natsServerBin)) {
    throw new Error(
      `no NATS server: set STRATA_TEST_NATS, run one on 127.0.0.1:4222, or install Debian's nats-server`,
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'strata-nats-'))
  const child = spawnService(
    natsServerBin,
    ['-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir, '-js', '-sd', join(dir, 'js')],
    { ...process.env },
    dir,
  )
  const deadline = Date.now() + startTimeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`nats-server exited early (${String(child.exitCode)})`)
    const file = readdirSync(dir).find((f) => f.endsWith('.ports'))
    if (file !== undefined) {
      try {
        const ports = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats?: string[] }
        const url = ports.nats?.[0]
        if (url !== undefined && (await answers(url.replace(/^nats:\/\//, '')))) return url
      } catch {
        // written but not complete yet: look again
      }
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
  throw new Error(`nats-server did not start within ${String(startTimeoutMs)} ms`)
}

/**
 * Starts a server process for this test process only: killed (SIGKILL) by the kernel when this
 * process dies, however it dies (`setpriv --pdeathsig`, util-linux), killed and its folder
 * `dir` removed on a normal exit, and never keeping this process alive.
 */
export function spawnService(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  dir: string,
): ChildProcess {
  const guarded = existsSync('/usr/bin/setpriv')
  const child = guarded
    ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', command, ...args], {
        env,
        cwd: dir,
        stdio: 'ignore',
      })
    : spawn(command, args, { env, cwd: dir, stdio: 'ignore' })
  child.on('error', () => undefined) // surfaces as an early exit
  child.unref()
  process.once('exit', () => {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
  })
  return child
}
