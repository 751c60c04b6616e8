/**
 * Faults on demand and from the profile's script: a partition and the recovery after it, corrupt
 * payloads the cloud refuses with 0x99, abrupt drops, power loss and reboot loops, clock skew,
 * and the RAM budget.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFleet, type SimProfile } from '../../src/index.js'
import { anonymous, eventually, sleep, startProtocolBroker } from './protocol-broker.js'

const opts = { timeout: 20_000 }
const fast: SimProfile = {
  reportEveryS: 0.1,
  reconnect: { initialMs: 50, maxMs: 200, factor: 2 },
  rebootS: 0.1,
  powerOffS: 0.2,
}

describe('fleet faults', () => {
  it(
    'a partition cuts devices off, they buffer, and after it they deliver what they kept',
    opts,
    async (t) => {
      const b = await startProtocolBroker(t)
      const fleet = createFleet({
        brokerUrl: b.url,
        identities: anonymous(4),
        connectsPerSecond: 1_000,
        seed: 1,
        profile: fast,
      })
      t.after(() => fleet.close())
      fleet.start()
      await eventually(() => fleet.stats().connected === 4, 6_000, 'connected')
      const affected = fleet.inject({ kind: 'partition', durationS: 0.6 }, { count: 2 })
      assert.equal(affected, 2)
      await eventually(() => fleet.stats().connected === 2, 5_000, 'two cut off')
      await sleep(300)
      const during = fleet.stats()
      assert.ok(during.recordsBuffered > 0, 'readings kept in RAM while partitioned')
      assert.ok(during.connectFailures > 0 && during.errors['PARTITIONED'] !== undefined)
      assert.equal(during.disconnects, 2)
      await eventually(
        () => fleet.stats().connected === 4 && fleet.stats().recordsBuffered === 0,
        8_000,
        () => JSON.stringify(fleet.stats()),
      )
      const final = await fleet.close()
      assert.equal(final.recordsDropped, 0)
      assert.equal(final.refused, 0)
      // Every reading taken reached the broker, with its own time stamp. QoS 1 is at least once: a
      // message in flight when the link dropped is sent again, so count each reading once.
      const readings = new Set<string>()
      let values = 0
      for (const r of b.received) {
        if (r.message?.kind !== 'telemetry') continue
        for (const rec of r.message.records) {
          const key = `${r.deviceId}@${String(rec.ts)}`
          if (readings.has(key)) continue
          readings.add(key)
          values += Object.keys(rec.values).length
        }
      }
      assert.equal(values, final.pointsSent)
    },
  )

  it('corrupt payloads are refused by the cloud with 0x99 and counted', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({
      brokerUrl: b.url,
      identities: anonymous(2),
      connectsPerSecond: 1_000,
      seed: 2,
      profile: fast,
    })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(() => fleet.stats().connected === 2, 6_000, 'connected')
    assert.equal(fleet.inject({ kind: 'corrupt', share: 1, durationS: 0.5 }), 2)
    await eventually(
      () => fleet.stats().refused >= 4,
      6_000,
      () => JSON.stringify(fleet.stats()),
    )
    await sleep(600)
    const s = fleet.stats()
    assert.equal(s.errors['PUBACK_0x99'], s.refused)
    assert.equal(fleet.device('sim-0')?.lastError?.code.startsWith('PUBACK_0x99') ?? true, true)
    const refusedAtBroker = b.received.filter((r) => r.refused !== undefined).length
    assert.equal(refusedAtBroker, s.refused)
    // The fault is over: new messages are accepted again.
    const acked = s.acked
    await eventually(() => fleet.stats().acked > acked + 2, 5_000, 'accepted again')
  })

  it('drop, power loss, reboot loop and clock skew', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({
      brokerUrl: b.url,
      identities: anonymous(3),
      connectsPerSecond: 1_000,
      seed: 3,
      profile: fast,
    })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(() => fleet.stats().connected === 3, 6_000, 'connected')
    assert.equal(fleet.inject({ kind: 'drop' }, { devices: ['sim-0', 'nobody'] }), 1)
    await eventually(() => fleet.stats().disconnects === 1, 5_000, 'the drop')
    await eventually(() => fleet.stats().connected === 3, 5_000, 'reconnected after backoff')

    assert.equal(fleet.inject({ kind: 'power-loss', offS: 0.3 }, { devices: ['sim-1'] }), 1)
    assert.equal(fleet.device('sim-1')?.state, 'poweredOff')
    assert.equal(fleet.device('sim-1')?.firmware.running, null)
    assert.equal(fleet.inject({ kind: 'power-loss' }, { devices: ['sim-1'] }), 0, 'already off')
    await eventually(() => fleet.device('sim-1')?.state === 'connected', 6_000, 'booted and back')
    assert.equal(fleet.device('sim-1')?.counters.reboots, 1)

    assert.equal(fleet.inject({ kind: 'reboot-loop', count: 3 }, { devices: ['sim-2'] }), 1)
    await eventually(() => fleet.device('sim-2')?.counters.reboots === 3, 8_000, 'three reboots')
    await eventually(() => fleet.device('sim-2')?.state === 'connected', 6_000, 'running again')

    const skew = 3_600_000
    assert.equal(fleet.inject({ kind: 'clock-skew', ms: skew }, { devices: ['sim-0'] }), 1)
    const before = b.of('sim-0', 'telemetry').length
    await eventually(
      () => b.of('sim-0', 'telemetry').length > before + 1,
      5_000,
      'reports after the skew',
    )
    const last = b.of('sim-0', 'telemetry').at(-1)!
    const ts = last.message?.kind === 'telemetry' ? (last.message.records.at(-1)?.ts ?? 0) : 0
    assert.ok(Math.abs(ts - (Date.now() + skew)) < 10_000, `ts ${String(ts)} carries the skew`)
    assert.equal(fleet.device('sim-0')?.clockSkewMs, skew)
    assert.equal(fleet.stats().reboots, 4)
  })

  it(
    'runs the faults a profile scripts, and refuses a bad one naming the field',
    opts,
    async (t) => {
      const b = await startProtocolBroker(t)
      const fleet = createFleet({
        brokerUrl: b.url,
        identities: anonymous(2),
        connectsPerSecond: 1_000,
        profile: { ...fast, faults: [{ atS: 0.3, fault: { kind: 'drop' }, target: { count: 1 } }] },
      })
      t.after(() => fleet.close())
      fleet.start()
      await eventually(() => fleet.stats().disconnects === 1, 6_000, 'the scripted drop')
      assert.throws(() => fleet.inject({ kind: 'delay' } as never), {
        code: 'DEVICE_FAULT_INVALID',
        message: /required properties ms/,
      })
      assert.throws(() => fleet.inject({ kind: 'meteor' } as never), {
        code: 'DEVICE_FAULT_INVALID',
        message: /\/kind must be one of/,
      })
      await fleet.close()
      assert.throws(() => fleet.inject({ kind: 'drop' }), { code: 'DEVICE_FLEET_CLOSED' })
    },
  )

  it('counts what does not fit the RAM budget', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({
      brokerUrl: b.url,
      identities: anonymous(1),
      profile: { ...fast, budget: { ramBytes: 600, flashBytes: 4 << 20 } },
    })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(
      () => fleet.stats().connected === 1 && fleet.stats().acked > 2,
      6_000,
      'connected',
    )
    assert.equal(fleet.stats().budgetViolations, 0, 'one message fits')
    fleet.inject({ kind: 'partition', durationS: 1 })
    await eventually(() => fleet.stats().budgetViolations > 0, 6_000, 'the buffer outgrows the RAM')
    const s = fleet.stats()
    assert.ok(s.errors['BUDGET_RAM']! > 0)
    assert.ok(s.recordsDropped > 0)
    const view = fleet.device('sim-0')
    assert.ok(
      view?.budget !== undefined && view.budget.ramPeakBytes <= 600,
      JSON.stringify(view?.budget),
    )
  })
})
