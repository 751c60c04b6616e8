// The load generator as the parent sees it: one devices.ts process per core, the simulated devices
// dealt out among them round-robin, every command sent to all and their answers summed.
import type { Child, ChildMessage, ChildSet } from './children.js'
import type { DeviceCredentials, LatencySample, PublishResult } from './devices.js'
import type { PayloadFormat } from './payload.js'

const connectTimeoutMs = 300_000
const publishTimeoutMs = 600_000

export interface BurstShape {
  /** Batches per device. */
  readonly messages: number
  readonly records: number
  /** Unacknowledged batches per device at most. */
  readonly window: number
}

export interface SteadyShape {
  readonly perDevicePerS: number
  readonly durationMs: number
  readonly records: number
  /** Devices whose publishes are logged for latency. */
  readonly sample: readonly string[]
}

export class LoadGenerators {
  readonly #workers: readonly Child[]

  private constructor(workers: readonly Child[]) {
    this.#workers = workers
  }

  static async start(children: ChildSet, processes: number): Promise<LoadGenerators> {
    const workers = await Promise.all(
      Array.from({ length: processes }, async (_, i) => {
        const { child } = await children.start(`load generator ${String(i)}`, 'devices.ts', {})
        return child
      }),
    )
    return new LoadGenerators(workers)
  }

  get pids(): readonly number[] {
    return this.#workers.map((w) => w.pid)
  }

  /** Connects a set of devices; throws if any cannot connect. */
  async connect(
    set: string,
    url: string,
    devices: readonly DeviceCredentials[],
    format: PayloadFormat,
  ): Promise<void> {
    const n = this.#workers.length
    const answers = await Promise.all(
      this.#workers.map((w, i) =>
        w.request(
          {
            type: 'connect',
            set,
            url,
            format,
            devices: devices.filter((_, j) => j % n === i),
          },
          'connected',
          connectTimeoutMs,
        ),
      ),
    )
    const failures = answers.flatMap((a) => a['failures'] as string[])
    if (failures.length > 0)
      throw new Error(
        `${String(failures.length)} devices could not connect to ${url}: ${failures.slice(0, 3).join('; ')}`,
      )
  }

  async burst(set: string, shape: BurstShape): Promise<PublishResult> {
    const answers = await this.#all({ type: 'burst', set, ...shape }, 'burst-done')
    return sum(answers)
  }

  async steady(
    set: string,
    shape: SteadyShape,
  ): Promise<PublishResult & { samples: LatencySample[] }> {
    const answers = await this.#all({ type: 'steady', set, ...shape }, 'steady-done')
    return { ...sum(answers), samples: answers.flatMap((a) => a['samples'] as LatencySample[]) }
  }

  async disconnect(set: string): Promise<void> {
    await this.#all({ type: 'disconnect', set }, 'disconnected')
  }

  async #all(command: object, reply: string): Promise<ChildMessage[]> {
    return Promise.all(this.#workers.map((w) => w.request(command, reply, publishTimeoutMs)))
  }
}

function sum(answers: readonly ChildMessage[]): PublishResult {
  const results = answers as unknown as PublishResult[]
  return {
    points: results.reduce((n, r) => n + r.points, 0),
    ackedPoints: results.reduce((n, r) => n + r.ackedPoints, 0),
    refusedPoints: results.reduce((n, r) => n + r.refusedPoints, 0),
    errors: results.flatMap((r) => r.errors),
    lastAckAtMs: Math.max(0, ...results.map((r) => r.lastAckAtMs)),
  }
}
