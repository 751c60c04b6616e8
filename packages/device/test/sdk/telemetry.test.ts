import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeTelemetry } from '@strata/protocol'
import { DeviceError } from '../../src/errors.js'
import { deviceOf, eventually, sleep, startSdkBroker, telemetryOf } from './sdk-fixture.js'

describe('device SDK telemetry', { timeout: 30_000 }, () => {
  it('batches records into QoS 1 messages on the telemetry topic, stamped with the clock', async (t) => {
    const b = await startSdkBroker(t)
    let now = 1_764_057_600_000
    const client = deviceOf(
      t,
      b,
      'pump-1',
      { batchMaxRecords: 3, batchMaxDelayMs: 50 },
      { clock: () => now },
    )
    await client.waitOnline()
    client.telemetry.send({ temp: 21.5 })
    now += 1
    client.telemetry.send([
      { temp: 21.6 },
      { ts: 1_764_000_000_000, values: { door: true }, tags: { probe: 'north' } },
    ])
    now += 1
    client.telemetry.send({ temp: 21.7 })
    await client.flush(5_000)
    const messages = b.published.filter((p) => p.topic === 'strata/v1/devices/pump-1/telemetry')
    assert.equal(
      messages.length,
      2,
      'three records fill one batch; the fourth leaves after the delay',
    )
    assert.ok(messages.every((m) => m.message.qos === 1))
    const records = telemetryOf(b, 'pump-1')
    assert.deepEqual(records, [
      { ts: 1_764_057_600_000, values: { temp: 21.5 } },
      { ts: 1_764_057_600_001, values: { temp: 21.6 } },
      { ts: 1_764_000_000_000, values: { door: true }, tags: { probe: 'north' } },
      { ts: 1_764_057_600_002, values: { temp: 21.7 } },
    ])
    // What the SDK sends is what the cloud's own decoder accepts.
    for (const m of messages) assert.ok(decodeTelemetry(m.message.payload, 'json').length > 0)
    assert.equal(client.telemetry.stats.acknowledged, 4)
    assert.equal(
      b.counts.deniedPublishes + b.counts.deniedSubscribes,
      0,
      'the SDK stays inside its namespace',
    )
  })

  it('sends CBOR on telemetry/cbor, int64 values included', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'pump-2', { format: 'cbor' })
    client.telemetry.send({ ts: 1_764_057_600_000, values: { restarts: 3n, temp: 21.5 } })
    await client.flush(5_000)
    const m = b.published.find((p) => p.topic === 'strata/v1/devices/pump-2/telemetry/cbor')
    assert.ok(m)
    assert.deepEqual(decodeTelemetry(m.message.payload, 'cbor'), [
      { ts: 1_764_057_600_000, values: { restarts: 3n, temp: 21.5 } },
    ])
  })

  it('throws DEVICE_MESSAGE_INVALID at once for what the cloud would refuse', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'pump-3')
    const invalid = (input: any) =>
      assert.throws(
        () => client.telemetry.send(input),
        (err: unknown) => err instanceof DeviceError && err.code === 'DEVICE_MESSAGE_INVALID',
      )
    invalid({ temp: Number.NaN })
    invalid({ 'bad name': 1 })
    invalid({ ts: 5 }) // reserved key in the bare form
    invalid([])
    invalid({ n: 1n }) // int64 in JSON
    assert.equal(client.telemetry.stats.queued, 0)
  })

  it('buffers while the broker is down, drops the oldest beyond the bound, and flushes in order on reconnect', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'pump-4', { bufferMaxRecords: 5, batchMaxRecords: 2 })
    const drops: number[] = []
    client.on('dropped', (d) => drops.push(d.records))
    await client.waitOnline()
    client.telemetry.send({ seq: 0 })
    await client.flush(5_000)

    await b.stopListener()
    await eventually(
      () => client.state.status === 'offline',
      5_000,
      'offline after the listener closed',
    )
    for (let seq = 1; seq <= 8; seq++) client.telemetry.send({ seq })
    assert.deepEqual(client.telemetry.stats.queued, 5)
    assert.equal(client.telemetry.stats.dropped, 3)
    assert.deepEqual(drops, [1, 1, 1])
    await sleep(100)
    assert.equal(telemetryOf(b, 'pump-4').length, 1, 'nothing leaves while offline')

    await b.startListener()
    await client.waitOnline(10_000)
    await client.flush(5_000)
    assert.deepEqual(
      telemetryOf(b, 'pump-4').map((r) => r.values.seq),
      [0, 4, 5, 6, 7, 8],
      'the newest five, oldest first',
    )
    assert.equal(client.telemetry.stats.acknowledged, 6)
  })

  it('resends the batch in flight when the link drops before its PUBACK, then goes on in order', async (t) => {
    const b = await startSdkBroker(t)
    let hold = true
    b.verdict = (p) =>
      hold && p.json?.[0]?.values?.seq === 1
        ? new Promise(() => undefined) // no PUBACK, ever, for this delivery
        : undefined
    const client = deviceOf(t, b, 'pump-8', { batchMaxRecords: 2 })
    await client.waitOnline()
    client.telemetry.send([{ seq: 1 }, { seq: 2 }])
    await eventually(() => b.published.length === 1, 5_000, 'the first batch reached the broker')
    client.telemetry.send([{ seq: 3 }])
    assert.deepEqual(client.telemetry.stats.inFlight, 2)
    hold = false
    b.broker.disconnectIdentity('pump-8') // the link drops with the batch unacknowledged
    await client.flush(10_000)
    const batches = b.published.map((p) =>
      (Array.isArray(p.json) ? p.json : [p.json]).map((r: any) => r.values.seq),
    )
    assert.deepEqual(
      batches,
      [[1, 2], [1, 2], [3]],
      'resent once after the reconnect, then the rest',
    )
    assert.equal(b.published[1]?.message.qos, 1)
    assert.equal(client.telemetry.stats.acknowledged, 3)
  })

  it('reports a PUBACK 0x99 as refused with its reason string and does not resend it', async (t) => {
    const b = await startSdkBroker(t)
    b.verdict = (p) =>
      p.json?.values?.bad === true
        ? { reasonCode: 0x99, reason: 'PROTOCOL_INVALID: /values/bad is refused by the profile' }
        : undefined
    const client = deviceOf(t, b, 'pump-5', { batchMaxRecords: 1 })
    const refused: any[] = []
    client.on('refused', (r) => refused.push(r))
    client.telemetry.send({ bad: true })
    client.telemetry.send({ good: 1 })
    await client.flush(5_000)
    await sleep(150)
    assert.equal(
      b.published.filter((p) => p.json?.values?.bad === true).length,
      1,
      'sent once, never again',
    )
    assert.equal(refused.length, 1)
    assert.equal(refused[0].reasonCode, 0x99)
    assert.equal(refused[0].records, 1)
    assert.match(refused[0].reason, /PROTOCOL_INVALID/)
    assert.deepEqual(client.telemetry.stats, {
      queued: 0,
      inFlight: 0,
      acknowledged: 1,
      dropped: 0,
      refused: 1,
    })
  })

  it('retries a batch refused with 0x97 quota exceeded after a backoff', async (t) => {
    const b = await startSdkBroker(t)
    let refusals = 2
    b.verdict = () =>
      refusals-- > 0 ? { reasonCode: 0x97, reason: 'CLOUD_RATE_LIMITED' } : undefined
    const client = deviceOf(t, b, 'pump-6', {}, { random: () => 0 })
    const refused: unknown[] = []
    client.on('refused', (r) => refused.push(r))
    client.telemetry.send({ temp: 1 })
    await client.flush(5_000)
    assert.equal(b.published.length, 3, 'refused twice, accepted the third time')
    assert.equal(refused.length, 0, 'a rate refusal is retried, not reported as refused')
    assert.equal(client.telemetry.stats.acknowledged, 1)
  })

  it('surfaces what the cloud publishes on the errors topic', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'pump-7', { protocolVersion: 4 })
    await client.waitOnline()
    const reports: any[] = []
    client.on('cloudError', (r) => reports.push(r))
    await sleep(50) // the SUBSCRIBE follows the CONNACK
    await b.cloudPublish('strata/v1/devices/pump-7/errors', {
      topic: 'strata/v1/devices/pump-7/telemetry',
      error: { code: 'PROTOCOL_INVALID', message: '/values/temp must be number' },
      ts: 1_764_057_600_000,
    })
    await eventually(() => reports.length === 1, 5_000, 'the error report')
    assert.equal(reports[0].error.code, 'PROTOCOL_INVALID')
    assert.equal(client.stats().cloudErrors, 1)
  })
})
