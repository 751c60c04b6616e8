// One side of the benchmark: a fresh broker (ours, `strata broker --config FILE`, as
// bench/broker starts it), the counting subscriber, and the child with the devices — our
// simulator or bare MQTT.js clients. Ramp, settle, count over the window, measure, stop.
import { setTimeout as sleep } from 'node:timers/promises'
import type { BrokerSupervisor } from '../broker/brokers.js'
import type { Child, ChildMessage, ChildSet } from '../ingest/children.js'
import type { LoadShape, MemorySample } from './child-memory.js'
import { startCounter } from './counter.js'

/** The figures of one side (BRIEF §4 units). */
export interface SideFigures {
  readonly devices: number
  readonly connected: number
  readonly rss_per_device_kib: number
  readonly heap_per_device_kib: number
  readonly delivered_share: number
  readonly connect_s: number
  readonly rss_mib: number
}

export interface SidePlan {
  readonly name: 'ours' | 'peer'
  readonly shape: Omit<LoadShape, 'url'>
  readonly settleMs: number
  readonly windowMs: number
}

const kib = 1024
const mib = 1024 * 1024

function log(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** Forks a side's child (it loads its modules and measures its baseline, nothing more yet). */
export async function startChild(
  name: 'ours' | 'peer',
  children: ChildSet,
): Promise<{ child: Child; ready: ChildMessage }> {
  // ChildSet forks relative to bench/ingest.
  return children.start(name, `../fleet/${name}-child.ts`, {
    nodeFlags: ['--expose-gc'],
    readyTimeoutMs: 60_000,
  })
}

export async function runSide(
  plan: SidePlan,
  forked: { child: Child; ready: ChildMessage },
  brokers: BrokerSupervisor,
  children: ChildSet,
): Promise<SideFigures> {
  const { child, ready } = forked
  const broker = await brokers.start('strata', {
    persistence: false,
    maxInflightMessages: 100,
    maxQueuedMessages: 1_000,
  })
  const url = `mqtt://127.0.0.1:${String(broker.port)}`
  const counter = await startCounter(url)
  try {
    const baseline = ready['memory'] as MemorySample
    log(
      `  ${plan.name}: after module load rss ${(baseline.rssBytes / mib).toFixed(1)} MiB, heap ${(baseline.heapUsedBytes / mib).toFixed(1)} MiB; ramping ${String(plan.shape.devices)} devices at ${String(plan.shape.connectsPerSecond)}/s`,
    )
    const off = child.onMessage((m) => {
      if (m.type === 'progress') log(`  ${plan.name}: ${String(m['connected'])} connected`)
    })
    const rampMs = (plan.shape.devices / plan.shape.connectsPerSecond) * 1000 + 90_000
    const up = await child.request(
      { type: 'start', shape: { ...plan.shape, url } },
      'connected',
      rampMs,
    )
    off()
    log(
      `  ${plan.name}: ${String(up['connected'])}/${String(plan.shape.devices)} connected in ${Number(up['connectS']).toFixed(2)} s; settling ${String(plan.settleMs / 1000)} s`,
    )
    await sleep(plan.settleMs)
    const before = counter.count
    log(`  ${plan.name}: counting reports for ${String(plan.windowMs / 1000)} s`)
    await sleep(plan.windowMs)
    const delivered = counter.count - before
    const measured = await child.request({ type: 'measure' }, 'measured', 60_000)
    const memory = measured['memory'] as MemorySample
    const expected = (plan.shape.devices * plan.windowMs) / (plan.shape.periodS * 1000)
    const n = plan.shape.devices
    const figures: SideFigures = {
      devices: n,
      connected: Number(measured['connected']),
      rss_per_device_kib: (memory.rssBytes - baseline.rssBytes) / n / kib,
      heap_per_device_kib: (memory.heapUsedBytes - baseline.heapUsedBytes) / n / kib,
      delivered_share: delivered / expected,
      connect_s: Number(up['connectS']),
      rss_mib: memory.rssBytes / mib,
    }
    log(
      `  ${plan.name}: delivered ${String(delivered)} of ${String(Math.round(expected))} due; rss ${figures.rss_mib.toFixed(1)} MiB (${figures.rss_per_device_kib.toFixed(2)} KiB/device), heap ${figures.heap_per_device_kib.toFixed(2)} KiB/device; errors ${JSON.stringify(measured['errors'])}`,
    )
    return figures
  } finally {
    await children.stopOne(child)
    await counter.close()
    await broker.stop()
  }
}
