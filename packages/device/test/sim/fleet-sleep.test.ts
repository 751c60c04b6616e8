/**
 * Sleepy devices: connect, report, clean DISCONNECT with the session kept, sleep, wake. What the
 * cloud publishes at QoS 1 while a device sleeps waits in its session and arrives after it
 * wakes: nothing lost, every message counted in `received`.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createFleet } from '../../src/index.js'
import { anonymous, eventually, startProtocolBroker } from './protocol-broker.js'

it('receives after waking what was published while it slept', { timeout: 20_000 }, async (t) => {
  const b = await startProtocolBroker(t)
  const fleet = createFleet({
    brokerUrl: b.url,
    identities: anonymous(3),
    connectsPerSecond: 1_000,
    seed: 3,
    profile: {
      reportEveryS: 0.2,
      sleep: { awakeS: 0.4, sleepS: 0.8 },
      battery: { capacityMah: 10, perMessageMah: 0.01, awakeMahPerS: 0.1, reportAs: 'battery' },
    },
  })
  t.after(() => fleet.close())
  fleet.start()
  // All three have been awake once and are asleep now.
  await eventually(
    () => fleet.stats().sleeping === 3,
    6_000,
    () => `waiting for all to sleep: ${JSON.stringify(fleet.stats())}`,
  )
  const asleep = fleet.stats()
  assert.equal(asleep.connected, 0)
  assert.equal(asleep.disconnects, 0, 'going to sleep is a clean DISCONNECT, not a disconnect')
  assert.ok(b.broker.connectionCount === 0, 'no device holds a connection while asleep')
  const perDevice = 4
  for (let i = 0; i < 3; i++) {
    for (let n = 0; n < perDevice; n++) {
      await b.broker.publish({
        topic: `strata/v1/devices/sim-${String(i)}/twin/desired`,
        payload: JSON.stringify({ version: n + 1, desired: { note: n } }),
        qos: 1,
      })
    }
  }
  await eventually(
    () => fleet.stats().received === 3 * perDevice,
    8_000,
    () => `waiting for what was queued: ${JSON.stringify(fleet.stats())}`,
  )
  for (let i = 0; i < 3; i++)
    assert.equal(fleet.device(`sim-${String(i)}`)?.counters.received, perDevice)
  // Every wake reported, and the battery reading went down.
  await eventually(() => (b.connects.get('sim-0') ?? 0) >= 2, 6_000, 'a second wake')
  const readings = b
    .of('sim-0', 'telemetry')
    .flatMap((r) => (r.message?.kind === 'telemetry' ? r.message.records : []))
    .map((r) => r.values['battery'] as number)
  assert.ok(readings.length >= 2)
  assert.ok(readings.at(-1)! < readings[0]!, `battery ${JSON.stringify(readings)}`)
  const view = fleet.device('sim-0')
  assert.ok(view?.batteryPercent !== undefined && view.batteryPercent < 100)
  const final = await fleet.close()
  assert.equal(final.refused, 0)
  assert.equal(final.received, 3 * perDevice)
})
