import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deviceOf, eventually, sleep, startSdkBroker } from './sdk-fixture.js'

const T = 'strata/v1/devices/lamp-1'

describe('device SDK firmware seam and events', { timeout: 30_000 }, () => {
  it('delivers firmware offers as decoded, reports progress, asks for the offer again', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'lamp-1')
    const offers: unknown[] = []
    client.firmware.onOffer((offer) => {
      offers.push(offer)
    })
    await client.waitOnline()
    await sleep(50)
    const offer = {
      offerId: 'o-7',
      manifest: { payload: 'eyJ…', signatures: [] },
      url: 'https://x/fw.bin',
    }
    await b.cloudPublish(`${T}/firmware/offer`, offer)
    await eventually(() => offers.length === 1, 5_000, 'the offer')
    assert.deepEqual(offers[0], offer)

    await client.firmware.reportProgress({
      offerId: 'o-7',
      version: '2.1.0',
      state: 'downloading',
      percent: 40,
    })
    await client.firmware.requestOffer()
    await assert.rejects(client.firmware.reportProgress({ state: 'dancing' } as any), {
      code: 'DEVICE_MESSAGE_INVALID',
    })
    const progress = b.published.filter((p) => p.topic === `${T}/firmware/progress`)
    assert.deepEqual(
      progress.map((p) => p.json),
      [{ offerId: 'o-7', version: '2.1.0', state: 'downloading', percent: 40 }],
    )
    assert.equal(b.published.filter((p) => p.topic === `${T}/firmware/get`).length, 1)
  })

  it('sends events to events/{name}, stamped with the clock when they carry no time', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'lamp-1', {}, { clock: () => 1_764_057_600_000 })
    await client.events.send('door-forced', {
      severity: 'warning',
      message: 'door forced',
      data: { sensor: 'd2' },
    })
    await client.events.send('boot')
    await assert.rejects(client.events.send('bad name'), { code: 'DEVICE_MESSAGE_INVALID' })
    await assert.rejects(client.events.send('x', { severity: 'apocalyptic' } as any), {
      code: 'DEVICE_MESSAGE_INVALID',
    })
    assert.deepEqual(
      b.published.filter((p) => p.topic.startsWith(`${T}/events/`)).map((p) => [p.topic, p.json]),
      [
        [
          `${T}/events/door-forced`,
          {
            ts: 1_764_057_600_000,
            severity: 'warning',
            message: 'door forced',
            data: { sensor: 'd2' },
          },
        ],
        [`${T}/events/boot`, { ts: 1_764_057_600_000 }],
      ],
    )
  })

  it('holds events sent while offline and sends them on reconnect; refuses beyond outboxMaxMessages', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'lamp-1', { outboxMaxMessages: 2 })
    await client.waitOnline()
    await b.stopListener()
    await eventually(() => client.state.status === 'offline', 5_000, 'offline')
    const first = client.events.send('a')
    const second = client.events.send('b')
    await assert.rejects(client.events.send('c'), { code: 'DEVICE_OUTBOX_FULL' })
    assert.equal(client.stats().outboxPending, 2)
    await b.startListener()
    await Promise.all([first, second])
    assert.deepEqual(
      b.published
        .filter((p) => p.topic.startsWith(`${T}/events/`))
        .map((p) => p.topic.split('/').pop()),
      ['a', 'b'],
    )
  })
})
