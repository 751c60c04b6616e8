// The device SDK against a real all-in-one node on ports 0: a token device's telemetry is
// queryable over the API; a device provisions itself with a claim token over MQTTS, saves its
// identity, and connects with its certificate; a command published while the device was away
// reaches it from its persistent session.
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { StrataNode } from '@strata/cloud'
import {
  createDeviceClient,
  loadIdentity,
  provisionWithClaim,
  saveIdentity,
  type DeviceClient,
} from '@strata/device'
import { eventually, startNodeWithAdmin, type ApiCall } from './node-helpers.js'

let root: string
let node: StrataNode
let api: ApiCall

async function deviceToken(id: string): Promise<string> {
  await api('POST', '/api/v1/devices', { id })
  return (await api('POST', `/api/v1/devices/${id}/tokens`, {})).token as string
}

function closeAfter(client: DeviceClient): DeviceClient {
  after(() => client.close())
  return client
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'strata-device-sdk-'))
  ;({ node, api } = await startNodeWithAdmin(root))
})

after(async () => {
  await node.close()
  await rm(root, { recursive: true, force: true })
})

describe('device SDK against a node', { timeout: 60_000 }, () => {
  it('a token device sends telemetry that the API serves', async () => {
    const token = await deviceToken('thermo-1')
    const client = closeAfter(
      createDeviceClient({ url: node.mqttUrl, deviceId: 'thermo-1', credentials: { token } }),
    )
    await client.waitOnline(10_000)
    const ts = Date.now()
    client.telemetry.send({ ts, values: { temp: 21.5, heating: true } })
    client.telemetry.send({ ts: ts + 1, values: { temp: 21.75 } })
    await client.flush(10_000)
    assert.equal(client.telemetry.stats.acknowledged, 2)
    const latest = await api('GET', '/api/v1/telemetry/latest?device=thermo-1&metric=temp')
    assert.equal(latest.items[0].value, 21.75)
    assert.equal(latest.items[0].time, ts + 1)
  })

  it('a refused reading comes back as refused with the cloud reason, and on the errors topic', async () => {
    const token = await deviceToken('thermo-2')
    const client = closeAfter(
      createDeviceClient({ url: node.mqttUrl, deviceId: 'thermo-2', credentials: { token } }),
    )
    const refused: any[] = []
    const reports: any[] = []
    client.on('refused', (r) => refused.push(r))
    client.on('cloudError', (r) => reports.push(r))
    await client.waitOnline(10_000)
    await new Promise((resolve) => setTimeout(resolve, 100)) // the SUBSCRIBE follows the CONNACK
    // A time far in the future is valid protocol but refused by the store (0x83).
    client.telemetry.send({ ts: 8_000_000_000_000_000, values: { temp: 1 } })
    await client.flush(10_000)
    assert.equal(refused.length, 1)
    assert.ok(refused[0].reasonCode >= 0x80)
    await eventually(
      () => Promise.resolve(reports.length > 0 ? true : undefined),
      5_000,
      'the errors topic',
    )
    assert.equal(reports[0].topic, 'strata/v1/devices/thermo-2/telemetry')
  })

  it('provisions with a claim token over MQTTS, saves its identity, connects with its certificate, renews it', async () => {
    const claim = await api('POST', '/api/v1/claims', { name: 'batch 7', maxUses: 1 })
    const identity = await provisionWithClaim({
      url: node.mqttsUrl,
      caPem: node.caChainPem,
      claimToken: claim.token as string,
      serial: 'SN-0042',
      attributes: { site: 'berlin' },
      timeoutMs: 15_000,
    })
    assert.equal(identity.deviceId, 'SN-0042')
    const dir = join(root, 'identity')
    await saveIdentity(dir, identity)
    assert.equal((await stat(join(dir, 'private-key.pem'))).mode & 0o777, 0o600)
    const loaded = await loadIdentity(dir)
    assert.deepEqual(loaded, identity)

    // The claim was for one use: a second device cannot provision with it.
    await assert.rejects(
      provisionWithClaim({
        url: node.mqttsUrl,
        caPem: node.caChainPem,
        claimToken: claim.token as string,
        serial: 'SN-0043',
      }),
      { code: 'DEVICE_PROVISIONING_FAILED' },
    )

    const client = closeAfter(
      createDeviceClient({
        url: node.mqttsUrl,
        deviceId: loaded.deviceId,
        caPem: loaded.caChainPem,
        credentials: {
          certificatePem: loaded.certificatePem,
          privateKeyPem: loaded.privateKeyPem,
        },
      }),
    )
    await client.waitOnline(10_000)
    const ts = Date.now()
    client.telemetry.send({ ts, values: { volts: 3.3 } })
    await client.flush(10_000)
    const latest = await api('GET', '/api/v1/telemetry/latest?device=SN-0042&metric=volts')
    assert.equal(latest.items[0].value, 3.3)

    // Renewal over the same connection: a new key and certificate, saved, and used next time.
    const renewed = await client.renewCertificate({ timeoutMs: 15_000 })
    assert.notEqual(renewed.certificatePem, identity.certificatePem)
    assert.notEqual(renewed.privateKeyPem, identity.privateKeyPem)
    await saveIdentity(dir, renewed)
    await client.close()
    const next = await loadIdentity(dir)
    assert.ok(next)
    const again = closeAfter(
      createDeviceClient({
        url: node.mqttsUrl,
        deviceId: next.deviceId,
        caPem: next.caChainPem,
        credentials: { certificatePem: next.certificatePem, privateKeyPem: next.privateKeyPem },
      }),
    )
    await again.waitOnline(10_000)
  })

  it('a command sent over the API while the device was closed is answered when it reconnects', async () => {
    const token = await deviceToken('thermo-3')
    const options = { url: node.mqttUrl, deviceId: 'thermo-3', credentials: { token } }
    const first = createDeviceClient(options)
    await first.waitOnline(10_000)
    await new Promise((resolve) => setTimeout(resolve, 100)) // subscribed
    await first.close()

    const sent = await api('POST', '/api/v1/devices/thermo-3/commands', {
      name: 'set-point',
      params: { celsius: 19.5 },
    })
    assert.equal(sent.status, 'queued')

    const second = closeAfter(createDeviceClient(options))
    second.commands.on('set-point', ({ params }) => ({ celsius: params['celsius'] }))
    const done = await eventually(
      async () => {
        const c = await api('GET', `/api/v1/commands/${String(sent.id)}`)
        return c.status === 'succeeded' ? c : undefined
      },
      10_000,
      'the command succeeded',
    )
    assert.deepEqual(done.result, { celsius: 19.5 })
    assert.deepEqual(second.state, { status: 'online', sessionPresent: true })
  })

  it('a desired change made while the device was closed reaches it, and its report reaches the twin', async () => {
    const token = await deviceToken('thermo-4')
    const options = { url: node.mqttUrl, deviceId: 'thermo-4', credentials: { token } }
    const first = createDeviceClient(options)
    await first.waitOnline(10_000)
    await first.close()

    await api('PATCH', '/api/v1/devices/thermo-4/twin/desired', { interval: 30 })
    const second = closeAfter(createDeviceClient(options))
    const desired = new Promise<unknown>((resolve) => {
      second.twin.onDesired((change) => {
        resolve(change.desired)
        void second.twin.report({ interval: 30 })
      })
    })
    assert.deepEqual(await desired, { interval: 30 })
    const twin = await eventually(
      async () => {
        const t = await api('GET', '/api/v1/devices/thermo-4/twin')
        return t.reported?.interval === 30 ? t : undefined
      },
      10_000,
      'the reported interval reached the twin',
    )
    assert.deepEqual(twin.desired, { interval: 30 })
  })
})
