import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeviceError } from '../../src/errors.js'
import { createDeviceClient, deviceSubscriptions } from '../../src/sdk/index.js'
import { deviceOf, eventually, sleep, startSdkBroker } from './sdk-fixture.js'

describe('device SDK connection', { timeout: 30_000 }, () => {
  it('reconnects with jittered exponential backoff, capped, and resets it after a stable connection', async (t) => {
    const b = await startSdkBroker(t)
    await b.stopListener()
    let now = 0
    const client = deviceOf(
      t,
      b,
      'boiler-1',
      { reconnect: { initialMs: 40, maxMs: 160, factor: 2 }, stableAfterMs: 1_000 },
      { random: () => 1, clock: () => now },
    )
    const waits: number[] = []
    const connectingAt: number[] = []
    client.on('offline', (o) => waits.push(o.retryInMs))
    client.on('connecting', () => connectingAt.push(Date.now()))
    await eventually(() => waits.length >= 5, 5_000, 'five failed attempts')
    // random() = 1 takes the top of each step: 40, 80, 160, then the cap.
    assert.deepEqual(waits.slice(0, 5), [40, 80, 160, 160, 160])
    const gaps = connectingAt.slice(1, 5).map((at, i) => at - (connectingAt[i] ?? 0))
    gaps.forEach((gap, i) =>
      assert.ok(gap >= (waits[i] ?? 0) - 5, `attempt ${String(i + 2)} waited ${String(gap)} ms`),
    )
    assert.equal(client.state.status === 'offline' || client.state.status === 'connecting', true)

    await b.startListener()
    await client.waitOnline(5_000)
    now += 1_000 // online for stableAfterMs
    waits.length = 0
    await b.stopListener()
    await eventually(() => waits.length >= 2, 5_000, 'two attempts after a stable connection')
    assert.deepEqual(waits.slice(0, 2), [40, 80], 'the backoff starts over')
  })

  it('keeps counting failures when the connection did not last', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(
      t,
      b,
      'boiler-2',
      { reconnect: { initialMs: 40, maxMs: 1_000, factor: 2 }, stableAfterMs: 60_000 },
      { random: () => 0, clock: () => 0 },
    )
    await client.waitOnline()
    const waits: number[] = []
    client.on('offline', (o) => waits.push(o.retryInMs))
    for (let i = 0; i < 3; i++) {
      b.broker.disconnectIdentity('boiler-2')
      await eventually(() => waits.length === i + 1, 5_000, 'offline')
      await client.waitOnline(5_000)
    }
    // random() = 0 takes the bottom of each step: half of 40, 80, 160.
    assert.deepEqual(waits, [20, 40, 80])
  })

  it('retries refusals that may pass (server busy) with backoff', async (t) => {
    const b = await startSdkBroker(t)
    let busy = 2
    b.connectVerdict = () => (busy-- > 0 ? 0x89 : undefined)
    const client = deviceOf(t, b, 'boiler-3', {}, { random: () => 0 })
    const reasons: string[] = []
    client.on('offline', (o) => reasons.push(o.reason))
    await client.waitOnline(5_000)
    assert.equal(reasons.length, 2)
    assert.match(reasons[0] ?? '', /0x89 server busy/)
  })

  for (const protocolVersion of [5, 4] as const) {
    it(`stops for good on a bad token with a fatal error that says what to do (MQTT ${String(protocolVersion)})`, async (t) => {
      const b = await startSdkBroker(t)
      b.tokens.set('boiler-4', 'the-right-one')
      const client = createDeviceClient({
        url: b.url,
        deviceId: 'boiler-4',
        credentials: { token: 'a-wrong-one' },
        protocolVersion,
        reconnect: { initialMs: 10, maxMs: 20, factor: 2 },
      })
      t.after(() => client.close())
      const fatal: DeviceError[] = []
      client.on('fatal', (err) => fatal.push(err))
      await assert.rejects(client.waitOnline(5_000), (err: unknown) => {
        assert.ok(err instanceof DeviceError)
        assert.equal(err.code, 'DEVICE_CONNECT_REFUSED')
        assert.match(
          err.message,
          protocolVersion === 5 ? /0x86 bad user name or password/ : /return code 4/,
        )
        assert.match(err.hint ?? '', /token/)
        return true
      })
      await sleep(200) // ten retry periods
      assert.equal(b.counts.refusedConnects, 1, 'one attempt, no retry loop')
      assert.equal(fatal.length, 1)
      assert.equal(client.state.status, 'closed')
      assert.throws(() => client.telemetry.send({ t: 1 }), { code: 'DEVICE_CONNECT_REFUSED' })
      await assert.rejects(client.twin.report({ a: 1 }), { code: 'DEVICE_CONNECT_REFUSED' })
    })
  }

  it('subscribes to exactly the cloud topics it uses, all allowed by the namespace rules', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'boiler-5')
    const warnings: DeviceError[] = []
    client.on('warning', (w) => warnings.push(w))
    await client.waitOnline()
    await sleep(100)
    assert.deepEqual(deviceSubscriptions('boiler-5').sort(), [
      'strata/v1/devices/boiler-5/commands/request/+',
      'strata/v1/devices/boiler-5/errors',
      'strata/v1/devices/boiler-5/firmware/offer',
      'strata/v1/devices/boiler-5/twin/desired',
      'strata/v1/devices/boiler-5/twin/document',
      'strata/v1/devices/boiler-5/twin/rejected',
    ])
    assert.equal(b.counts.deniedSubscribes, 0)
    assert.deepEqual(warnings, [])
  })

  it('closes cleanly: flushes, sends a normal DISCONNECT, keeps the session, and is idempotent', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'boiler-6', { batchMaxDelayMs: 10_000 })
    const closed: unknown[] = []
    client.on('closed', (c) => closed.push(c))
    await client.waitOnline()
    client.telemetry.send({ temp: 20 })
    const first = client.close()
    const second = client.close()
    assert.equal(first, second)
    await first
    assert.equal(
      b.published.filter((p) => p.topic.endsWith('/telemetry')).length,
      1,
      'flushed before closing',
    )
    assert.equal(client.state.status, 'closed')
    assert.deepEqual(closed, [{ reason: 'closed by the application' }])
    await eventually(() => b.disconnects.length === 1, 2_000, 'the broker saw the disconnect')
    assert.match(b.disconnects[0]?.reason ?? '', /DISCONNECT 0 from the client/)
    assert.equal(b.broker.sessionCount, 1, 'the persistent session survives the close')
    assert.throws(() => client.telemetry.send({ temp: 1 }), { code: 'DEVICE_CLIENT_CLOSED' })
    await assert.rejects(client.events.send('door'), { code: 'DEVICE_CLIENT_CLOSED' })
  })

  it('rejects options a user can get wrong with a hint', () => {
    const base = { url: 'mqtt://127.0.0.1:1', deviceId: 'd-1', credentials: { token: 't' } }
    const bad = (options: any, pattern: RegExp) =>
      assert.throws(
        () => createDeviceClient({ ...base, ...options }),
        (err: unknown) =>
          err instanceof DeviceError &&
          err.code === 'DEVICE_CLIENT_OPTIONS_INVALID' &&
          pattern.test(err.message) &&
          err.hint !== undefined,
      )
    bad({ url: 'http://x:1' }, /not mqtt:\/\/ or mqtts:\/\//)
    bad({ url: 'mqtt://d-1:secret@x:1' }, /carries credentials/)
    bad({ deviceId: 'a/b' }, /not a device id/)
    bad({ credentials: { token: '' } }, /token is empty/)
    bad({ credentials: { certificatePem: 'x', privateKeyPem: 'y' } }, /PEM/)
    bad({ protocolVersion: 3 }, /protocolVersion/)
    bad({ batchMaxRecords: 0 }, /batchMaxRecords/)
    bad({ bufferMaxRecords: 1.5 }, /bufferMaxRecords/)
  })
})
