import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DeviceError } from '../../src/errors.js'
import type { DesiredChange } from '../../src/sdk/index.js'
import { deviceOf, eventually, sleep, startSdkBroker } from './sdk-fixture.js'

const T = 'strata/v1/devices/fan-1'

describe('device SDK twin', { timeout: 30_000 }, () => {
  it('applies desired deltas as merge patches, calls handlers once per version', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'fan-1')
    const changes: DesiredChange[] = []
    client.twin.onDesired((c) => {
      changes.push(structuredClone(c))
    })
    await client.waitOnline()
    await sleep(50) // the SUBSCRIBE follows the CONNACK
    await b.cloudPublish(`${T}/twin/desired`, {
      version: 1,
      desired: { config: { interval: 30, mode: 'auto' } },
    })
    await b.cloudPublish(`${T}/twin/desired`, {
      version: 2,
      desired: { config: { interval: null, mode: 'eco' }, led: true },
    })
    await b.cloudPublish(`${T}/twin/desired`, {
      version: 2,
      desired: { config: { interval: null, mode: 'eco' }, led: true },
    })
    await eventually(() => changes.length === 2, 5_000, 'two desired changes')
    await sleep(50)
    assert.equal(changes.length, 2, 'the repeated version 2 is not handled again')
    assert.deepEqual(changes[0], {
      version: 1,
      delta: { config: { interval: 30, mode: 'auto' } },
      desired: { config: { interval: 30, mode: 'auto' } },
    })
    assert.deepEqual(changes[1]?.desired, { config: { mode: 'eco' }, led: true })
    assert.deepEqual(client.twin.desired, { config: { mode: 'eco' }, led: true })
    assert.equal(client.twin.version, 2)
  })

  it('reports merge patches to twin/reported and keeps a local reported copy', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'fan-1')
    await client.twin.report({ firmware: '2.1.0', config: { interval: 60, legacy: 1 } })
    await client.twin.report({ config: { legacy: null } })
    const reports = b.published.filter((p) => p.topic === `${T}/twin/reported`)
    assert.deepEqual(
      reports.map((r) => r.json),
      [{ firmware: '2.1.0', config: { interval: 60, legacy: 1 } }, { config: { legacy: null } }],
    )
    assert.ok(reports.every((r) => r.message.qos === 1))
    assert.deepEqual(client.twin.reported, { firmware: '2.1.0', config: { interval: 60 } })
    await assert.rejects(client.twin.report({ 'not a name': 1 }), {
      code: 'DEVICE_MESSAGE_INVALID',
    })
    await assert.rejects(client.twin.report([1, 2] as any), { code: 'DEVICE_MESSAGE_INVALID' })
  })

  it('gets the whole twin: the document answers its request id; twin/rejected and silence reject', async (t) => {
    const b = await startSdkBroker(t)
    let answer: 'document' | 'rejected' | 'nothing' = 'document'
    b.verdict = (p) => {
      if (p.topic !== `${T}/twin/get`) return undefined
      const requestId = p.json.requestId
      if (answer === 'document') {
        void b.cloudPublish(`${T}/twin/document`, {
          requestId: 'someone-else',
          version: 1,
          desired: {},
          reported: {},
        })
        void b.cloudPublish(`${T}/twin/document`, {
          requestId,
          version: 8,
          desired: { config: { interval: 30 } },
          reported: { firmware: '2.0.0' },
        })
      } else if (answer === 'rejected') {
        void b.cloudPublish(`${T}/twin/rejected`, {
          requestId,
          error: { code: 'CLOUD_RATE_LIMITED', message: 'too many twin requests' },
        })
      }
      return undefined
    }
    const client = deviceOf(t, b, 'fan-1', { requestTimeoutMs: 300 })
    await client.waitOnline()
    await sleep(50)
    const doc = await client.twin.get()
    assert.deepEqual(doc, {
      version: 8,
      desired: { config: { interval: 30 } },
      reported: { firmware: '2.0.0' },
    })
    assert.equal(client.twin.version, 8)
    assert.deepEqual(client.twin.desired, { config: { interval: 30 } })

    answer = 'rejected'
    await assert.rejects(client.twin.get(), (err: unknown) => {
      assert.ok(err instanceof DeviceError)
      assert.equal(err.code, 'DEVICE_TWIN_REJECTED')
      assert.match(err.message, /CLOUD_RATE_LIMITED: too many twin requests/)
      return true
    })
    answer = 'nothing'
    await assert.rejects(client.twin.get(), { code: 'DEVICE_TIMEOUT' })
    assert.equal(b.counts.deniedPublishes, 0)
  })

  it('reports a handler that throws as a warning and keeps going', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'fan-1')
    const warnings: DeviceError[] = []
    client.on('warning', (w) => warnings.push(w))
    let calls = 0
    client.twin.onDesired(() => {
      calls += 1
      throw new Error('bad handler')
    })
    await client.waitOnline()
    await sleep(50)
    await b.cloudPublish(`${T}/twin/desired`, { version: 1, desired: { a: 1 } })
    await b.broker.publish({ topic: `${T}/twin/desired`, payload: 'not json', qos: 1 })
    await b.cloudPublish(`${T}/twin/desired`, { version: 2, desired: { a: 2 } })
    await eventually(() => calls === 2 && warnings.length === 3, 5_000, 'two calls, three warnings')
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['DEVICE_HANDLER_FAILED', 'DEVICE_CLOUD_MESSAGE_INVALID', 'DEVICE_HANDLER_FAILED'],
    )
    assert.deepEqual(client.twin.desired, { a: 2 })
  })
})
