// Starts and stops the brokers under test as child processes on free 127.0.0.1 ports. Both kinds
// read the same Mosquitto-syntax config file. Every broker started here is stopped again: by
// `stop()`, by `BrokerSupervisor.close()`, on SIGINT/SIGTERM/SIGHUP and, as a last resort, with a
// SIGKILL from the process 'exit' handler.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export const brokerKinds = ['mosquitto', 'strata'] as const
export type BrokerKind = (typeof brokerKinds)[number]

const mosquittoBin = '/usr/sbin/mosquitto'
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const strataBin = join(repoRoot, 'packages/cli/bin/strata.js')
/** The instance other people rely on; never ours to use. */
const reservedPort = 1883
const startTimeoutMs = 30_000
const stopTimeoutMs = 5_000
const outputTailBytes = 8192

/** What the config file sets, identically for both kinds. */
export interface BrokerSettings {
  readonly persistence: boolean
  readonly maxInflightMessages: number
  readonly maxQueuedMessages: number
}

export interface RunningBroker {
  readonly kind: BrokerKind
  readonly port: number
  readonly pid: number
  /** Exit code or signal once the process has ended; null while it runs. */
  exitStatus(): string | null
  /** The last few KB the broker wrote to stdout/stderr. */
  outputTail(): string
  stop(): Promise<void>
}

/** A free TCP port on 127.0.0.1 (listen on port 0, read it, close). */
export async function findFreePort(): Promise<number> {
  for (;;) {
    const server = net.createServer()
    await new Promise<void>((ok, fail) => {
      server.once('error', fail)
      server.listen(0, '127.0.0.1', ok)
    })
    const address = server.address()
    await new Promise<void>((ok) => server.close(() => ok()))
    if (address !== null && typeof address === 'object' && address.port !== reservedPort)
      return address.port
  }
}

/** The Mosquitto-syntax config both kinds read (`strata broker` accepts this subset). */
export function renderConfig(port: number, dataDir: string, settings: BrokerSettings): string {
  return [
    '# written by bench/broker for one benchmark scenario',
    `listener ${String(port)} 127.0.0.1`,
    'allow_anonymous true',
    `persistence ${String(settings.persistence)}`,
    `persistence_location ${dataDir}/`,
    `max_queued_messages ${String(settings.maxQueuedMessages)}`,
    `max_inflight_messages ${String(settings.maxInflightMessages)}`,
    'set_tcp_nodelay true',
    'log_dest none',
    '',
  ].join('\n')
}

/** "mosquitto 2.0.11" or "strata 0.1.0", for the report. */
export function brokerVersion(kind: BrokerKind): string {
  if (kind === 'strata') {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as {
      version?: string
    }
    return `strata ${pkg.version ?? 'unknown'}`
  }
  const help = spawnSync(mosquittoBin, ['-h'], { encoding: 'utf8' })
  const version = /mosquitto version (\S+)/.exec(`${help.stdout}${help.stderr}`)?.[1]
  return `mosquitto ${version ?? 'unknown'}`
}

function commandFor(kind: BrokerKind, configFile: string): { file: string; args: string[] } {
  if (kind === 'mosquitto') return { file: mosquittoBin, args: ['-c', configFile] }
  if (!existsSync(strataBin)) throw new Error(`strata broker: ${strataBin} does not exist`)
  return { file: process.execPath, args: [strataBin, 'broker', '--config', configFile] }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    socket.setTimeout(500)
    const done = (result: boolean): void => {
      socket.destroy()
      ok(result)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}

class ChildBroker implements RunningBroker {
  readonly kind: BrokerKind
  readonly port: number
  readonly pid: number
  private readonly child: ChildProcess
  private readonly exited: Promise<void>
  private tail = ''

  constructor(kind: BrokerKind, port: number, child: ChildProcess) {
    if (child.pid === undefined) throw new Error(`${kind}: spawn returned no pid`)
    this.kind = kind
    this.port = port
    this.pid = child.pid
    this.child = child
    this.exited = new Promise((ok) => child.once('exit', () => ok()))
    const keep = (chunk: Buffer): void => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-outputTailBytes)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
  }

  exitStatus(): string | null {
    const { exitCode, signalCode } = this.child
    if (exitCode !== null) return `code ${String(exitCode)}`
    return signalCode
  }

  outputTail(): string {
    return this.tail.trim()
  }

  /** Resolves once the broker accepts TCP; throws if it exits or takes too long. */
  async waitUntilListening(): Promise<void> {
    const deadline = performance.now() + startTimeoutMs
    while (performance.now() < deadline) {
      const status = this.exitStatus()
      if (status !== null) throw this.startError(`exited (${status}) before accepting connections`)
      if (await canConnect(this.port)) return
      await sleep(50)
    }
    throw this.startError(`did not accept connections within ${String(startTimeoutMs / 1000)} s`)
  }

  private startError(what: string): Error {
    const output = this.outputTail()
    const hint =
      this.kind === 'strata'
        ? '\n  hint: `strata broker --config FILE` must exist and be built (npm run build); ' +
          'run with --brokers mosquitto,mosquitto to check the harness alone'
        : ''
    return new Error(
      `${this.kind} broker on 127.0.0.1:${String(this.port)} ${what}` +
        (output === '' ? '' : `\n  its output:\n    ${output.split('\n').join('\n    ')}`) +
        hint,
    )
  }

  async stop(): Promise<void> {
    if (this.exitStatus() === null) this.child.kill('SIGTERM')
    const stopped = await Promise.race([
      this.exited.then(() => true),
      sleep(stopTimeoutMs, false, { ref: false }),
    ])
    if (!stopped) {
      process.stderr.write(
        `  ${this.kind} (pid ${String(this.pid)}) ignored SIGTERM; sending SIGKILL\n`,
      )
      this.child.kill('SIGKILL')
      await this.exited
    }
  }

  killNow(): void {
    if (this.exitStatus() === null) this.child.kill('SIGKILL')
  }
}

/** Owns every broker process and temp folder of one benchmark run. */
export class BrokerSupervisor {
  private readonly rootDir: string
  private readonly live = new Set<ChildBroker>()
  private started = 0

  constructor() {
    this.rootDir = mkdtempSync(join(tmpdir(), 'strata-bench-broker-'))
    // Mosquitto started as root drops to the `mosquitto` user: it must reach its data folder.
    chmodSync(this.rootDir, 0o755)
    process.once('exit', () => this.killAllSync())
  }

  async start(kind: BrokerKind, settings: BrokerSettings): Promise<RunningBroker> {
    this.started += 1
    const dir = join(this.rootDir, `${kind}-${String(this.started)}`)
    const dataDir = join(dir, 'data')
    mkdirSync(dataDir, { recursive: true })
    chmodSync(dir, 0o755)
    chmodSync(dataDir, 0o777)
    const port = await findFreePort()
    const configFile = join(dir, 'broker.conf')
    writeFileSync(configFile, renderConfig(port, dataDir, settings))
    const { file, args } = commandFor(kind, configFile)
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir })
    const spawnError = new Promise<never>((_, fail) => child.once('error', fail))
    if (child.pid === undefined) await spawnError // spawn failed (ENOENT, EACCES): throws
    const broker = new ChildBroker(kind, port, child)
    this.live.add(broker)
    try {
      await Promise.race([broker.waitUntilListening(), spawnError])
    } catch (err) {
      await this.stopOne(broker)
      throw err
    }
    return { ...exposeBroker(broker), stop: () => this.stopOne(broker) }
  }

  private async stopOne(broker: ChildBroker): Promise<void> {
    await broker.stop()
    this.live.delete(broker)
  }

  /** Stops every broker still running and removes the temp folders. Idempotent. */
  async close(): Promise<void> {
    await Promise.all([...this.live].map((broker) => this.stopOne(broker)))
    rmSync(this.rootDir, { recursive: true, force: true })
  }

  private killAllSync(): void {
    for (const broker of this.live) broker.killNow()
    rmSync(this.rootDir, { recursive: true, force: true })
  }
}

function exposeBroker(broker: ChildBroker): Omit<RunningBroker, 'stop'> {
  return {
    kind: broker.kind,
    port: broker.port,
    pid: broker.pid,
    exitStatus: () => broker.exitStatus(),
    outputTail: () => broker.outputTail(),
  }
}
