// Publish-to-queryable latency: while sampled devices publish, the newest visible time stamp of
// each is polled back to back (at most every `pollPeriodMs`) through the stack's query path. A
// publish is visible at the first poll answer showing its newest time stamp; its latency runs
// from just before the device's `publish()` to the arrival of that answer (epoch ms, one clock:
// `performance.timeOrigin + now()` in every process).
import { setTimeout as sleep } from 'node:timers/promises'
import type { LatencySample } from './devices.js'
import type { Stack } from './stack.js'

const pollPeriodMs = 5
/** After the last publish, how long to keep polling for samples not yet seen. */
const tailMs = 10_000

const wallNow = (): number => performance.timeOrigin + performance.now()

/** Per device, when each newer time stamp was first seen: [seenAtMs, visibleTs][]. */
type Observations = Map<string, [number, number][]>

export class VisibilityPoller {
  readonly #stack: Stack
  readonly #devices: readonly string[]
  readonly #seen: Observations = new Map()
  #stopped = false
  #loop: Promise<void> | undefined
  polls = 0

  constructor(stack: Stack, devices: readonly string[]) {
    this.#stack = stack
    this.#devices = devices
  }

  start(): void {
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const started = performance.now()
      const latest = await this.#stack.latest(this.#devices)
      const at = wallNow()
      this.polls += 1
      for (const [device, ts] of latest) {
        const list = this.#seen.get(device) ?? []
        if (list.length === 0) this.#seen.set(device, list)
        const last = list[list.length - 1]
        if (last === undefined || ts > last[1]) list.push([at, ts])
      }
      const wait = pollPeriodMs - (performance.now() - started)
      if (wait > 0) await sleep(wait)
    }
  }

  /** Whether every sample is visible by now. */
  #allSeen(samples: readonly LatencySample[]): boolean {
    return samples.every(([device, ts]) => {
      const list = this.#seen.get(device)
      return list !== undefined && (list[list.length - 1]?.[1] ?? -1) >= ts
    })
  }

  /** Polls on until every sample is visible (or `tailMs` passes), then stops. */
  async finish(samples: readonly LatencySample[]): Promise<void> {
    const deadline = performance.now() + tailMs
    while (!this.#allSeen(samples) && performance.now() < deadline) await sleep(pollPeriodMs)
    this.#stopped = true
    await this.#loop
  }

  /** Latency of each sample in ms; `unseen` counts those never seen. */
  latencies(samples: readonly LatencySample[]): { ms: number[]; unseen: number } {
    const ms: number[] = []
    let unseen = 0
    for (const [device, ts, sentAt] of samples) {
      const list = this.#seen.get(device) ?? []
      // The first observation whose time stamp reaches ts (observations grow in both fields).
      let lo = 0
      let hi = list.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if ((list[mid]?.[1] ?? -1) >= ts) hi = mid
        else lo = mid + 1
      }
      const hit = list[lo]
      if (hit === undefined) unseen += 1
      else ms.push(Math.max(0, hit[0] - sentAt))
    }
    return { ms, unseen }
  }
}

/** The q-quantile (0…1) of `values`, nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] ?? Number.NaN
}
