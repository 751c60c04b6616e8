// What every scenario gets and gives back, and the helpers they share: connecting clients in
// bounded batches, the measurement window (deliveries, wall time, broker CPU), health checks.
import { setTimeout as sleep } from 'node:timers/promises'

import type { RunningBroker } from './brokers.js'
import { sampleProc } from './cpu.js'
import { LoadClient } from './load.js'

export interface Timing {
  /** Load on each broker before the first measured round (connections settle, JIT warms up). */
  readonly warmupMs: number
  /** Measured rounds per broker; the brokers take turns, round by round. */
  readonly rounds: number
  readonly roundMs: number
  /** Load at the start of each round before its measurement starts. */
  readonly settleMs: number
  /** After a round, how long to wait at most for the last messages to arrive. */
  readonly drainMs: number
  readonly idleConnections: number
  /** Pause between opening the idle connections and reading the broker's RSS. */
  readonly idleSettleMs: number
}

export interface ScenarioContext {
  readonly broker: RunningBroker
  readonly ticksPerS: number
  readonly timing: Timing
  /** max_inflight_messages of the broker config; also the publishers' PUBACK window. */
  readonly maxInflight: number
  /** Progress line on stderr. */
  log(line: string): void
}

export type Figures = Record<string, number>

/** One scenario's clients on one broker, kept across its rounds. */
export interface Session {
  /** Puts load on the broker for `ms`, measured or not (warm-up). */
  round(measure: boolean, ms: number): Promise<void>
  /** The figures of all measured rounds. */
  result(): Figures
  close(): Promise<void>
}

export interface Scenario {
  readonly name: string
  /** `persistence true` in the broker config for this scenario. */
  readonly persistence: boolean
  /** True for load scenarios: rounds alternate between brokers and peak RSS counts for `rss_mib`. */
  readonly interleaved: boolean
  open(context: ScenarioContext): Promise<Session>
}

/** Keep-alive of load connections: long enough that no PINGREQ is due during a run. */
export const keepaliveS = 600
/** Connections opened at once; stays under Mosquitto's listen backlog of 100. */
const connectConcurrency = 64
/** Source addresses per 127.0.0.x: stays under the 28k ephemeral ports of one address. */
const connectionsPerSourceAddress = 25_000

export interface ConnectManyResult {
  readonly clients: LoadClient[]
  readonly errors: string[]
}

/** Opens `count` connections, `connectConcurrency` at a time; collects failures. */
export async function connectMany(
  port: number,
  prefix: string,
  count: number,
): Promise<ConnectManyResult> {
  const clients: LoadClient[] = []
  const errors: string[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next
      next += 1
      const block = Math.floor(i / connectionsPerSourceAddress)
      const options = { port, clientId: `${prefix}${String(i)}`, keepaliveS }
      try {
        const localAddress = block === 0 ? undefined : `127.0.0.${String(1 + block)}`
        clients.push(
          await LoadClient.connect(
            localAddress === undefined ? options : { ...options, localAddress },
          ),
        )
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(connectConcurrency, count) }, worker))
  return { clients, errors }
}

/** Connects clients that must all succeed (the publishers and subscribers of a load run). */
export async function connectAll(
  port: number,
  prefix: string,
  count: number,
): Promise<LoadClient[]> {
  const { clients, errors } = await connectMany(port, prefix, count)
  if (errors.length > 0) {
    for (const client of clients) client.destroy()
    throw new Error(
      `${String(errors.length)} of ${String(count)} connections failed, first: ${errors[0] ?? ''}`,
    )
  }
  return clients
}

/** Raw counts of one measurement window. */
export interface Window {
  readonly delivered: number
  readonly seconds: number
  /** Broker CPU time in the window. */
  readonly cpuS: number
  /** This process's CPU time in the window. */
  readonly ownCpuS: number
}

/** Waits `ms` and counts deliveries, wall time and broker CPU time meanwhile. */
export async function measureWindow(
  context: ScenarioContext,
  delivered: () => number,
  ms: number,
): Promise<Window> {
  const { broker, ticksPerS } = context
  const before = sampleProc(broker.pid, ticksPerS)
  const ownBefore = process.cpuUsage()
  const deliveredBefore = delivered()
  await sleep(ms)
  const after = sampleProc(broker.pid, ticksPerS)
  const own = process.cpuUsage(ownBefore)
  return {
    delivered: delivered() - deliveredBefore,
    seconds: (after.atMs - before.atMs) / 1000,
    cpuS: after.cpuS - before.cpuS,
    ownCpuS: (own.user + own.system) / 1e6,
  }
}

/** Sums of the measured windows of one broker in one scenario. */
export class WindowTotals {
  delivered = 0
  seconds = 0
  cpuS = 0
  ownCpuS = 0

  add(window: Window): void {
    this.delivered += window.delivered
    this.seconds += window.seconds
    this.cpuS += window.cpuS
    this.ownCpuS += window.ownCpuS
  }

  get msgsPerS(): number {
    return this.delivered / this.seconds
  }

  get msgsPerCpuS(): number {
    return this.cpuS > 0 ? this.delivered / this.cpuS : Number.NaN
  }

  /** Broker CPU in cores (1 = one core busy all the time). */
  get brokerCores(): number {
    return this.cpuS / this.seconds
  }

  /** Load generator CPU in cores: near 1 means it was the limit. */
  get loadgenCores(): number {
    return this.ownCpuS / this.seconds
  }
}

export async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!done() && performance.now() < deadline) await sleep(10)
}

/** Throws if the broker died or dropped one of the clients during the scenario. */
export function assertHealthy(context: ScenarioContext, clients: readonly LoadClient[]): void {
  const { broker } = context
  const status = broker.exitStatus()
  if (status !== null) {
    const output = broker.outputTail()
    throw new Error(
      `${broker.kind} exited (${status}) during the scenario${output === '' ? '' : `: ${output}`}`,
    )
  }
  const failed = clients.find((client) => client.failure !== null)
  if (failed !== undefined)
    throw new Error(`${broker.kind}: a load connection failed: ${failed.failure ?? ''}`)
}

/** Closes load clients gracefully (DISCONNECT) and gives the broker a moment to see it. */
export async function closeAll(clients: readonly LoadClient[]): Promise<void> {
  for (const client of clients) client.close()
  await sleep(50)
  for (const client of clients) client.destroy()
}

export function formatRate(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a'
}
