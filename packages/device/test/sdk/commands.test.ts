import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDeviceClient, type DeviceCommand } from '../../src/sdk/index.js'
import { deviceOf, eventually, sleep, startSdkBroker, type SdkBroker } from './sdk-fixture.js'

const T = (id: string) => `strata/v1/devices/${id}`
const responses = (b: SdkBroker, id: string) =>
  b.published.filter((p) => p.topic.startsWith(`${T(id)}/commands/response/`))

describe('device SDK commands', { timeout: 30_000 }, () => {
  it('MQTT 5: answers on the response topic with the correlation data', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'valve-1')
    const seen: DeviceCommand[] = []
    client.commands.on('reboot', (command) => {
      seen.push(command)
      return { uptimeS: 12 }
    })
    await client.waitOnline()
    await sleep(50)
    await b.cloudPublish(
      `${T('valve-1')}/commands/request/reboot`,
      { id: 'c-42', params: { delayS: 5 }, expiresAt: Date.now() + 60_000 },
      {
        responseTopic: `${T('valve-1')}/commands/response/c-42`,
        correlationData: Buffer.from('corr-42'),
      },
    )
    await eventually(() => responses(b, 'valve-1').length === 1, 5_000, 'the response')
    const [reply] = responses(b, 'valve-1')
    assert.equal(reply?.topic, `${T('valve-1')}/commands/response/c-42`)
    assert.deepEqual(reply.json, { status: 'succeeded', result: { uptimeS: 12 } })
    assert.equal(Buffer.from(reply.message.properties.correlationData ?? []).toString(), 'corr-42')
    assert.equal(reply.message.qos, 1)
    assert.equal(seen[0]?.id, 'c-42')
    assert.equal(seen[0].name, 'reboot')
    assert.deepEqual(seen[0].params, { delayS: 5 })
  })

  it('MQTT 3.1.1: answers on commands/response/{id}', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'valve-2', { protocolVersion: 4 })
    client.commands.on('ping', () => undefined)
    await client.waitOnline()
    await sleep(50)
    await b.cloudPublish(`${T('valve-2')}/commands/request/ping`, { id: 'c-1' })
    await eventually(() => responses(b, 'valve-2').length === 1, 5_000, 'the response')
    assert.equal(responses(b, 'valve-2')[0]?.topic, `${T('valve-2')}/commands/response/c-1`)
    assert.deepEqual(responses(b, 'valve-2')[0]?.json, { status: 'succeeded' })
  })

  it('answers failures: a handler that throws, an unknown name; never answers an expired command', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'valve-3')
    client.commands.on('open', () => {
      throw Object.assign(new Error('the valve is stuck'), { code: 'VALVE_STUCK' })
    })
    client.commands.on('close', async () => {
      await sleep(1)
      throw new Error('no reason')
    })
    client.commands.on('late', () => ({ ran: true }))
    await client.waitOnline()
    await sleep(50)
    await b.cloudPublish(`${T('valve-3')}/commands/request/open`, { id: 'c-1' })
    await b.cloudPublish(`${T('valve-3')}/commands/request/close`, { id: 'c-2' })
    await b.cloudPublish(`${T('valve-3')}/commands/request/explode`, { id: 'c-3' })
    await b.cloudPublish(`${T('valve-3')}/commands/request/late`, {
      id: 'c-4',
      expiresAt: Date.now() - 1,
    })
    await eventually(() => responses(b, 'valve-3').length === 3, 5_000, 'three responses')
    await sleep(100)
    const byId = Object.fromEntries(
      responses(b, 'valve-3').map((r) => [r.topic.split('/').pop(), r.json]),
    )
    assert.deepEqual(byId, {
      'c-1': { status: 'failed', error: { code: 'VALVE_STUCK', message: 'the valve is stuck' } },
      'c-2': { status: 'failed', error: { code: 'DEVICE_COMMAND_FAILED', message: 'no reason' } },
      'c-3': {
        status: 'failed',
        error: {
          code: 'DEVICE_COMMAND_UNKNOWN',
          message: 'this device has no handler for the command explode',
        },
      },
    })
    assert.deepEqual(client.stats().commands, {
      received: 4,
      answered: 3,
      expired: 1,
      duplicates: 0,
    })
  })

  it('sends accepted first for long work, then the result; runs a redelivered id once', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'valve-4')
    let runs = 0
    client.commands.on('calibrate', async (_command, context) => {
      runs += 1
      await context.accepted()
      await sleep(50)
      return { offset: 0.25 }
    })
    await client.waitOnline()
    await sleep(50)
    await b.cloudPublish(`${T('valve-4')}/commands/request/calibrate`, { id: 'c-9' })
    await b.cloudPublish(`${T('valve-4')}/commands/request/calibrate`, { id: 'c-9' })
    await eventually(() => responses(b, 'valve-4').length === 2, 5_000, 'two responses')
    await sleep(100)
    assert.deepEqual(
      responses(b, 'valve-4').map((r) => r.json),
      [{ status: 'accepted' }, { status: 'succeeded', result: { offset: 0.25 } }],
    )
    assert.equal(runs, 1)
    assert.equal(client.stats().commands.duplicates, 1)
  })

  it('ignores a response topic outside its own namespace and answers on commands/response/{id}', async (t) => {
    const b = await startSdkBroker(t)
    const client = deviceOf(t, b, 'valve-5')
    client.commands.on('ping', () => ({ pong: true }))
    await client.waitOnline()
    await sleep(50)
    await b.cloudPublish(
      `${T('valve-5')}/commands/request/ping`,
      { id: 'c-1' },
      { responseTopic: `${T('someone-else')}/commands/response/c-1` },
    )
    await eventually(() => responses(b, 'valve-5').length === 1, 5_000, 'the response')
    assert.equal(responses(b, 'valve-5')[0]?.topic, `${T('valve-5')}/commands/response/c-1`)
    assert.equal(b.counts.deniedPublishes, 0)
  })

  for (const protocolVersion of [5, 4] as const) {
    it(`gets a command queued while it was away, from its persistent session (MQTT ${String(protocolVersion)})`, async (t) => {
      const b = await startSdkBroker(t)
      const first = deviceOf(t, b, 'valve-6', { protocolVersion })
      await first.waitOnline()
      await sleep(50) // subscribed
      await first.close()
      await b.cloudPublish(`${T('valve-6')}/commands/request/ping`, { id: 'while-away' })

      const second = createDeviceClient({
        url: b.url,
        deviceId: 'valve-6',
        credentials: { token: 'tok-valve-6' },
        protocolVersion,
      })
      t.after(() => second.close())
      const got: string[] = []
      second.commands.on('ping', (c) => {
        got.push(c.id)
        return { pong: true }
      })
      await eventually(
        () => responses(b, 'valve-6').length === 1,
        5_000,
        'the queued command answered',
      )
      assert.deepEqual(got, ['while-away'])
      assert.deepEqual(second.state, { status: 'online', sessionPresent: true })

      // And while the link is down rather than the process.
      await b.stopListener()
      await eventually(() => second.state.status === 'offline', 5_000, 'offline')
      await b.cloudPublish(`${T('valve-6')}/commands/request/ping`, { id: 'while-down' })
      await b.startListener()
      await eventually(
        () => responses(b, 'valve-6').length === 2,
        10_000,
        'the second queued command',
      )
      assert.deepEqual(got, ['while-away', 'while-down'])
    })
  }
})
