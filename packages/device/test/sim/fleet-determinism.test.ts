/**
 * The same seed gives the same fleet: per-device offsets, drift, clock skew, report phases and
 * every reading (values, and time stamps relative to the start), run after run. Another seed
 * gives another fleet.
 */
import assert from 'node:assert/strict'
import { it, type TestContext } from 'node:test'
import { createFleet, type SimProfile } from '../../src/index.js'
import { anonymous, eventually, startProtocolBroker } from './protocol-broker.js'

const profile: SimProfile = {
  reportEveryS: 0.1,
  readingsPerMessage: 2,
  clockSkewMs: 5_000,
  signals: {
    temp: {
      type: 'float',
      base: 20,
      spread: 3,
      noise: 0.4,
      driftPerHour: 50,
      decimals: 2,
      anomalies: { perHour: 20_000, magnitude: 5, durationS: 0.3 },
    },
    count: { type: 'counter', ratePerS: 33 },
    door: { type: 'boolean', trueShare: 0.3, changesPerHour: 20_000 },
    mode: { type: 'enum', values: ['a', 'b', 'c'], changesPerHour: 20_000 },
  },
}

type Trace = Record<string, string[]>

async function run(t: TestContext, seed: number): Promise<{ trace: Trace; skews: number[] }> {
  const b = await startProtocolBroker(t)
  const ids = anonymous(3)
  const fleet = createFleet({
    brokerUrl: b.url,
    identities: ids,
    profile,
    seed,
    connectsPerSecond: 1_000,
  })
  fleet.start()
  await eventually(() => ids.every((d) => b.of(d.id, 'telemetry').length >= 4), 5_000, 'reports')
  await fleet.close()
  const trace: Trace = {}
  for (const { id } of ids) {
    const records = b
      .of(id, 'telemetry')
      .flatMap((r) => (r.message?.kind === 'telemetry' ? r.message.records : []))
    const first = records[0]?.ts ?? 0
    const seen = new Set<number>()
    trace[id] = records
      .filter((r) => !seen.has(r.ts ?? 0) && seen.add(r.ts ?? 0))
      .slice(0, 8)
      .map((r) => `${String((r.ts ?? 0) - first)} ${JSON.stringify(r.values)}`)
  }
  const skews = ids.map((d) => fleet.device(d.id)?.clockSkewMs ?? 0)
  return { trace, skews }
}

it(
  'gives the same readings for the same seed, and others for another',
  { timeout: 30_000 },
  async (t) => {
    const a = await run(t, 42)
    const b = await run(t, 42)
    const c = await run(t, 43)
    assert.deepEqual(b.skews, a.skews)
    assert.deepEqual(b.trace, a.trace)
    assert.equal(a.trace['sim-0']?.length, 8)
    assert.notDeepEqual(c.trace, a.trace)
    assert.notDeepEqual(c.skews, a.skews)
    // Devices differ from each other too.
    assert.notDeepEqual(a.trace['sim-0'], a.trace['sim-1'])
  },
)
