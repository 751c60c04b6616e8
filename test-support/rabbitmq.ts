/**
 * RabbitMQ (AMQP 0-9-1) for tests (BRIEF §7), shared by every package's tests:
 *
 * 1. `STRATA_TEST_AMQP` (an `amqp://user:pass@host:port` URL) when set;
 * 2. else the local server at 127.0.0.1:5672 (`guest`/`guest`) when it answers within a second
 *    (`STRATA_TEST_AMQP_PROBE=host:port` probes elsewhere, for example a closed port to exercise
 *    the fallback);
 * 3. else Debian's `rabbitmq-server`, started once per test process as this user, on free
 *    ports, with a random user and password, its node name, data and logs in a temporary
 *    folder, and killed when this process ends, however it ends. It takes some seconds to boot.
 *
 * Tests share the server: each declares its own exchanges and queues (see {@link uniqueName})
 * and deletes them.
 *
 * @example
 * const url = await testAmqpUrl()
 * const conn = await amqp.connect(url)
 */
import { connect } from 'amqplib'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnService } from './nats.js'

const probeTimeoutMs = 1000
const startTimeoutMs = 90_000
// The script behind /usr/sbin/rabbitmq-server, which would switch to the `rabbitmq` user and
// log under /var/log: this one runs as us with the paths we give it.
const rabbitmqServerBin = '/usr/lib/rabbitmq/bin/rabbitmq-server'

let server: Promise<string> | undefined

/** The URL of a RabbitMQ server tests may use (memoised per process). */
export function testAmqpUrl(): Promise<string> {
  server ??= findServer()
  return server
}

/** A name no other test uses: `strata-test-<name>-<random>`. */
export function uniqueName(name: string): string {
  return `strata-test-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}-${randomBytes(4).toString('hex')}`
}

async function findServer(): Promise<string> {
  const configured = process.env['STRATA_TEST_AMQP']
  if (configured !== undefined && configured !== '') return configured
  const probe = process.env['STRATA_TEST_AMQP_PROBE'] ?? '127.0.0.1:5672'
  const local = `amqp://guest:guest@${probe}`
  if (await answers(local, probeTimeoutMs)) return local
  return startServer()
}

/** Whether a broker accepts an AMQP connection at `url` within `timeoutMs`. */
async function answers(url: string, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const attempt = connect(url, { timeout: timeoutMs })
  try {
    const model = await Promise.race([
      attempt,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('probe timed out')), timeoutMs)
      }),
    ])
    await model.close().catch(() => undefined)
    return true
  } catch {
    void attempt.then((m) => m.close()).catch(() => undefined)
    return false
  } finally {
    clearTimeout(timer)
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port)
        else reject(new Error('no port'))
      })
    })
  })
}

async function startServer(): Promise<string> {
  if (!existsSync(rabbitmqServerBin)) {
    throw new Error(
      'no RabbitMQ: set STRATA_TEST_AMQP, run one on 127.0.0.1:5672, or install Debian’s rabbitmq-server',
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'strata-rabbitmq-'))
  const port = await freePort()
  const distPort = await freePort()
  const user = `strata-${randomBytes(4).toString('hex')}`
  const password = randomBytes(16).toString('hex')
  for (const sub of ['mnesia', 'log']) mkdirSync(join(dir, sub))
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${String(port)}`,
      `default_user = ${user}`,
      `default_pass = ${password}`,
      'loopback_users = none',
      '',
    ].join('\n'),
  )
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n')
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '')
  const child = spawnService(
    rabbitmqServerBin,
    [],
    {
      ...process.env,
      HOME: dir, // the Erlang cookie
      RABBITMQ_NODENAME: `strata-test-${randomBytes(4).toString('hex')}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      // Run the Erlang VM in place of the script (no wrapper shell), so the death signal and
      // our kill reach the broker itself.
      RUNNING_UNDER_SYSTEMD: 'true',
    },
    dir,
  )
  const url = `amqp://${user}:${password}@127.0.0.1:${String(port)}`
  const deadline = Date.now() + startTimeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `rabbitmq-server exited early (${String(child.exitCode)}); see ${join(dir, 'log')}`,
      )
    }
    if (await answers(url, probeTimeoutMs)) return url
    await new Promise((r) => setTimeout(r, 250))
  }
  child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
  throw new Error(`rabbitmq-server did not start within ${String(startTimeoutMs)} ms`)
}
