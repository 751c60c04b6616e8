// The benchmark's own child processes (our node, the load generators, the peer's subscriber):
// forked TypeScript modules that talk over IPC. Every child started here is stopped again: by
// `stop()`, by `ChildSet.close()` and, as a last resort, with a SIGKILL from the 'exit' handler.
import { type ChildProcess, fork } from 'node:child_process'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const stopTimeoutMs = 10_000
const outputTailBytes = 8192

/** A message a child sends: `type` says what it is. */
export interface ChildMessage {
  readonly type: string
  readonly [key: string]: unknown
}

/** One forked child: send it commands, wait for its answers. */
export class Child {
  readonly name: string
  readonly pid: number
  readonly #process: ChildProcess
  readonly #exited: Promise<void>
  readonly #listeners = new Set<(m: ChildMessage) => void>()
  #tail = ''

  constructor(name: string, child: ChildProcess) {
    if (child.pid === undefined) throw new Error(`${name}: fork returned no pid`)
    this.name = name
    this.pid = child.pid
    this.#process = child
    this.#exited = new Promise((ok) => child.once('exit', () => ok()))
    const keep = (chunk: Buffer): void => {
      this.#tail = (this.#tail + chunk.toString('utf8')).slice(-outputTailBytes)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.on('message', (m: ChildMessage) => {
      for (const listener of [...this.#listeners]) listener(m)
    })
  }

  /** Exit code or signal once the process has ended; null while it runs. */
  exitStatus(): string | null {
    const { exitCode, signalCode } = this.#process
    if (exitCode !== null) return `code ${String(exitCode)}`
    return signalCode
  }

  send(message: object): void {
    this.#process.send(message)
  }

  /** Calls `fn` for every message until the returned function is called. */
  onMessage(fn: (m: ChildMessage) => void): () => void {
    this.#listeners.add(fn)
    return () => this.#listeners.delete(fn)
  }

  /**
   * The next message of `type`; throws if the child sends `{type: 'error'}`, exits first, or
   * takes longer than `timeoutMs`.
   */
  async next(type: string, timeoutMs: number): Promise<ChildMessage> {
    let off = (): void => undefined
    let timer: NodeJS.Timeout | undefined
    try {
      return await new Promise<ChildMessage>((resolve, reject) => {
        off = this.onMessage((m) => {
          if (m.type === type) resolve(m)
          else if (m.type === 'error') reject(this.#failure(`failed: ${String(m['message'])}`))
        })
        void this.#exited.then(() => {
          reject(this.#failure(`exited (${this.exitStatus() ?? '?'}) while waiting for "${type}"`))
        })
        timer = setTimeout(() => {
          reject(this.#failure(`sent no "${type}" within ${String(timeoutMs / 1000)} s`))
        }, timeoutMs)
      })
    } finally {
      off()
      clearTimeout(timer)
    }
  }

  /** Sends `command` and waits for the answer of type `reply`. */
  async request(command: object, reply: string, timeoutMs: number): Promise<ChildMessage> {
    const answer = this.next(reply, timeoutMs)
    this.send(command)
    return answer
  }

  #failure(what: string): Error {
    const output = this.#tail.trim()
    return new Error(
      `${this.name} (pid ${String(this.pid)}) ${what}` +
        (output === '' ? '' : `\n  its output:\n    ${output.split('\n').join('\n    ')}`),
    )
  }

  /** Asks the child to finish (`{type: 'close'}`), then SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    if (this.exitStatus() !== null) return
    if (this.#process.connected) this.#process.send({ type: 'close' })
    if (await this.#exitedWithin(stopTimeoutMs)) return
    this.#process.kill('SIGTERM')
    if (await this.#exitedWithin(stopTimeoutMs / 2)) return
    process.stderr.write(`  ${this.name} (pid ${String(this.pid)}) did not stop; SIGKILL\n`)
    this.#process.kill('SIGKILL')
    await this.#exited
  }

  async #exitedWithin(ms: number): Promise<boolean> {
    return Promise.race([this.#exited.then(() => true), sleep(ms, false, { ref: false })])
  }

  killNow(): void {
    if (this.exitStatus() === null) this.#process.kill('SIGKILL')
  }
}

/** Owns every child of one benchmark run. */
export class ChildSet {
  readonly #live = new Set<Child>()

  constructor() {
    process.once('exit', () => {
      for (const child of this.#live) child.killNow()
    })
  }

  /**
   * Forks `bench/ingest/<script>` with this process's Node flags (the source condition and tsx)
   * plus `nodeFlags`, and waits for its `{type: 'ready'}`.
   */
  async start(
    name: string,
    script: string,
    options: { args?: readonly string[]; nodeFlags?: readonly string[]; readyTimeoutMs?: number },
  ): Promise<{ child: Child; ready: ChildMessage }> {
    const forked = fork(join(here, script), [...(options.args ?? [])], {
      execArgv: [...process.execArgv, ...(options.nodeFlags ?? [])],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    const spawnError = new Promise<never>((_, fail) => forked.once('error', fail))
    if (forked.pid === undefined) await spawnError
    const child = new Child(name, forked)
    this.#live.add(child)
    try {
      const ready = await Promise.race([
        child.next('ready', options.readyTimeoutMs ?? 60_000),
        spawnError,
      ])
      return { child, ready }
    } catch (err) {
      await this.stopOne(child)
      throw err
    }
  }

  async stopOne(child: Child): Promise<void> {
    await child.stop()
    this.#live.delete(child)
  }

  /** Stops every child still running, in parallel. Idempotent. */
  async close(): Promise<void> {
    await Promise.all([...this.#live].map((child) => this.stopOne(child)))
  }
}

/** For a child script: handlers for the parent's commands, and exit when the parent goes away. */
export function serveParent(
  handlers: Readonly<Record<string, (m: ChildMessage) => Promise<object | undefined>>>,
  onClose: () => Promise<void>,
): void {
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= onClose()
      .catch((err: unknown) => {
        process.stderr.write(`close failed: ${err instanceof Error ? err.message : String(err)}\n`)
      })
      .finally(() => {
        if (process.connected) process.disconnect()
        process.exit(0)
      }))
  process.on('message', (m: ChildMessage) => {
    if (m.type === 'close') {
      void close()
      return
    }
    const handler = handlers[m.type]
    if (handler === undefined) {
      reply({ type: 'error', message: `unknown command ${m.type}` })
      return
    }
    handler(m).then(
      (answer) => {
        if (answer !== undefined) reply(answer)
      },
      (err: unknown) => {
        reply({ type: 'error', message: err instanceof Error ? err.stack : String(err) })
      },
    )
  })
  // The parent died or closed the channel; Ctrl-C reaches the whole process group.
  process.once('disconnect', () => void close())
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => void close())
}

/** Sends a message to the parent (dropped if it has gone). */
export function reply(message: object): void {
  if (process.connected) process.send?.(message)
}
