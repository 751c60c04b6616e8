/** Starts and steers a broker process (broker-process.ts) from a test. */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BrokerSettings } from '../../src/index.js'
import type { BrokerRequest, BrokerStats } from './broker-process.js'

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'broker-process.ts')

let bundled: Promise<string | undefined> | undefined

/**
 * The broker process as one ES module, bundled from the sources once per run with the esbuild
 * that tsx brings along: a bundled child starts in a fraction of a second, where tsx needs
 * seconds to load the workspace sources, and the suite restarts a broker after every crash.
 * Workspace packages (@strata/*) are bundled from source; npm packages stay imports, resolved
 * through a node_modules link beside the bundle. Without esbuild, or when the bundle does not
 * start, children run the sources through tsx like the tests do.
 */
function bundle(): Promise<string | undefined> {
  bundled ??= (async () => {
    try {
      const { build } = await import('esbuild')
      const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-hostile-'))
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
      const modules = path.dirname(
        path.dirname(createRequire(import.meta.url).resolve('mqtt-packet/package.json')),
      )
      symlinkSync(modules, path.join(dir, 'node_modules'), 'dir')
      const outfile = path.join(dir, 'broker-process.mjs')
      await build({
        entryPoints: [entry],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        conditions: ['strata-source'],
        logLevel: 'error',
        plugins: [
          {
            name: 'npm-packages-external',
            setup(b) {
              b.onResolve({ filter: /^[^./]/ }, (args) =>
                args.path.startsWith('@strata/') ? undefined : { path: args.path, external: true },
              )
            },
          },
        ],
      })
      return outfile
    } catch {
      return undefined
    }
  })()
  return bundled
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void }
type Request = BrokerRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never

/** A broker running in a child process, with its ports and a way to ask it things. */
export class ChildBroker {
  readonly port: number
  readonly wsPort: number
  private readonly child: ChildProcess
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private stderrTail = ''
  private exit: string | undefined

  private constructor(child: ChildProcess, port: number, wsPort: number, stderr: () => string) {
    this.child = child
    this.port = port
    this.wsPort = wsPort
    child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id)
      if (p === undefined || m.id === undefined) return
      this.pending.delete(m.id)
      if (m.error !== undefined) p.reject(new Error(m.error))
      else p.resolve(m.result)
    })
    child.on('exit', (code, signal) => {
      this.stderrTail = stderr()
      this.exit = `exited with ${signal ?? `code ${String(code)}`}`
      for (const p of this.pending.values()) p.reject(new Error(this.describeExit()))
      this.pending.clear()
    })
  }

  /** Forks a broker with these settings and waits until it listens. */
  static async start(settings: BrokerSettings = {}): Promise<ChildBroker> {
    const module = await bundle()
    if (module === undefined) return ChildBroker.launch(entry, true, settings)
    try {
      return await ChildBroker.launch(module, false, settings)
    } catch {
      // The bundle does not run here: fall back to the sources, for this and later starts.
      bundled = Promise.resolve(undefined)
      return ChildBroker.launch(entry, true, settings)
    }
  }

  private static async launch(
    module: string,
    throughTsx: boolean,
    settings: BrokerSettings,
  ): Promise<ChildBroker> {
    const child = fork(module, [], {
      execArgv: throughTsx
        ? ['--conditions=strata-source', '--import', 'tsx', '--expose-gc']
        : ['--expose-gc'],
      env: { ...process.env, STRATA_HOSTILE_BROKER: JSON.stringify(settings) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    const ready = await new Promise<{ port: number; wsPort: number }>((resolve, reject) => {
      child.once('message', (m: { ready?: boolean; port: number; wsPort: number }) => {
        if (m.ready === true) resolve(m)
      })
      child.once('exit', (code) =>
        reject(new Error(`broker process failed to start (code ${String(code)}): ${stderr}`)),
      )
    })
    return new ChildBroker(child, ready.port, ready.wsPort, () => stderr)
  }

  /** Calls `listener` when the process exits (at once if it already has). */
  onExit(listener: () => void): void {
    if (!this.alive) listener()
    else this.child.once('exit', () => setImmediate(listener))
  }

  /** False once the process has exited. */
  get alive(): boolean {
    return this.exit === undefined
  }

  /** Why the process is gone, with the end of its stderr (the stack of a crash). */
  describeExit(): string {
    return `the broker process ${this.exit ?? 'is alive'}; stderr: ${this.stderrTail.trim() || '(empty)'}`
  }

  async request(request: Request): Promise<unknown> {
    if (!this.alive) throw new Error(this.describeExit())
    const id = this.nextId++
    const answer = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
    })
    this.child.send({ ...request, id })
    return answer
  }

  stats(): Promise<BrokerStats> {
    return this.request({ type: 'stats' }) as Promise<BrokerStats>
  }

  /** Asks the broker to close, then makes sure the process is gone. Idempotent. */
  async close(): Promise<void> {
    if (!this.alive) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    await this.request({ type: 'close' }).catch(() => undefined)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }
}
