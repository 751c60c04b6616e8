import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { startNode, type StrataNode } from '../src/index.js'
import {
  adminOf,
  apiClient,
  connectDeviceWithToken,
  deviceWithToken,
  portOf,
  startTestNode,
  otherTenantLogin,
} from './node/node-fixture.js'

type Api = ReturnType<typeof apiClient>

const rulesOf = (tenantId: string) => `strata/v1/tenants/${tenantId}/rules`
const telemetry = (id: string) => `strata/v1/devices/${id}/telemetry`

let node: StrataNode
let dataDir: string
let admin: Api
let acme: Api
const clients: MqttClient[] = []

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'strata-republish-'))
  node = await startNode({ dataDir, host: '127.0.0.1', mqttPort: 0, mqttsPort: 0, httpPort: 0 })
  admin = await adminOf(node)
  const login = await otherTenantLogin(node, admin)
  acme = apiClient(node.httpUrl, login.body.token as string)
})

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)))
  await node.close()
  await rm(dataDir, { recursive: true, force: true })
})

/** A new API token of the caller's tenant: the secret and its id. */
async function apiToken(api: Api, role: string): Promise<{ token: string; id: string }> {
  const created = await api.post('/api/v1/tokens', { name: `app-${role}`, role }, [201])
  return { token: created.body.token as string, id: created.body.apiToken.id as string }
}

/** An application connected over MQTT 5 with an API token; collects what it receives. */
async function app(
  t: { token: string; id: string },
  options: IClientOptions = {},
  at: StrataNode = node,
): Promise<MqttClient & { got: { topic: string; payload: string; qos: number }[] }> {
  const client = await mqtt.connectAsync(at.mqttUrl, {
    protocolVersion: 5,
    clientId: `app/${t.id}/test`,
    username: 'api',
    password: t.token,
    reconnectPeriod: 0,
    ...options,
  })
  clients.push(client)
  const got: { topic: string; payload: string; qos: number }[] = []
  client.on('message', (topic, payload, packet) =>
    got.push({ topic, payload: payload.toString(), qos: packet.qos }),
  )
  return Object.assign(client, { got })
}

/** The CONNACK reason code of a refused connection. */
async function refusedWith(options: IClientOptions): Promise<number | undefined> {
  try {
    const c = await mqtt.connectAsync(node.mqttUrl, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      ...options,
    })
    await c.endAsync(true)
    return undefined
  } catch (err) {
    return (err as { code?: number }).code
  }
}

/** The SUBACK code of one filter (MQTT.js rejects on a refusal; the packet has the code). */
async function subackCode(client: MqttClient, filter: string): Promise<number | undefined> {
  try {
    return (await client.subscribeAsync(filter, { qos: 1 }))[0]?.qos
  } catch (err) {
    return (err as { packet?: { granted?: number[] } }).packet?.granted?.[0]
  }
}

async function device(api: Api, id: string): Promise<MqttClient> {
  const client = await connectDeviceWithToken(node.mqttUrl, api, id)
  clients.push(client)
  return client
}

async function eventually<T>(what: string, probe: () => T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const republishLevel = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  enabled: true,
  match: { metrics: ['level'] },
  transform: '{"level": payload.level, "device": device.id}',
  actions: [{ type: 'republish', topic: 'plant/{deviceId}/{rule}', qos: 1 }],
  ...extra,
})

describe('applications read republished rule outputs', () => {
  it('an app with an API token gets its tenant’s outputs; another tenant’s app and mosquitto_sub see only theirs', async () => {
    // Retained, so mosquitto_sub gets it however late its SUBSCRIBE lands.
    const actions = [{ type: 'republish', topic: 'plant/{deviceId}/{rule}', qos: 1, retain: true }]
    await admin.post('/api/v1/rules', republishLevel('level-out', { actions }), [201])
    const home = await app(await apiToken(admin, 'viewer'))
    // QoS 2 asked, QoS 1 granted: applications read at QoS 0 or 1.
    const granted = await home.subscribeAsync(`${rulesOf('default')}/#`, { qos: 2 })
    assert.equal(granted[0]?.qos, 1)
    const other = await app(await apiToken(acme, 'admin'))
    const theirs = await other.subscribeAsync(`${rulesOf('acme')}/#`, { qos: 1 })
    assert.equal(theirs[0]?.qos, 1)
    const sharedSub = await other.subscribeAsync(`$share/g/${rulesOf('acme')}/plant/+/+`)
    assert.equal(sharedSub[0]?.qos, 0)

    const cliToken = await apiToken(admin, 'operator')
    const sub = promisify(execFile)(
      'mosquitto_sub',
      [
        ...['-h', '127.0.0.1', '-p', String(portOf(node.mqttUrl)), '-V', 'mqttv5'],
        ...['-i', `app/${cliToken.id}/cli`, '-u', 'api', '-P', cliToken.token],
        ...['-t', `${rulesOf('default')}/plant/#`, '-q', '1', '-v', '-C', '1', '-W', '10'],
      ],
      { timeout: 15_000 },
    )

    const tank = await device(admin, 'tank-1')
    await tank.publishAsync(telemetry('tank-1'), JSON.stringify({ level: 2.5 }), { qos: 1 })
    const topic = `${rulesOf('default')}/plant/tank-1/level-out`
    const message = await eventually('the republished output', () => home.got[0])
    assert.equal(message.topic, topic)
    assert.equal(message.qos, 1)
    assert.deepEqual(JSON.parse(message.payload), { level: 2.5, device: 'tank-1' })
    const { stdout } = await sub
    assert.equal(stdout.trim(), `${topic} ${JSON.stringify({ level: 2.5, device: 'tank-1' })}`)
    await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(other.got, [])
  })

  it('refuses filters outside the tenant’s rule outputs, and every publish', async () => {
    const viewer = await app(await apiToken(admin, 'viewer'))
    for (const filter of [
      '#',
      '+/#',
      '$SYS/#',
      'strata/#',
      `${rulesOf('acme')}/#`,
      'strata/v1/tenants/+/rules/#',
      'strata/v1/tenants/default/#',
      rulesOf('default'),
      `$share/g/${rulesOf('acme')}/#`,
      telemetry('tank-1'),
      'strata/v1/devices/tank-1/twin/desired',
    ]) {
      assert.equal(await subackCode(viewer, filter), 0x87, filter)
    }
    await assert.rejects(
      viewer.publishAsync(`${rulesOf('default')}/plant/x`, 'fake', { qos: 1 }),
      (err: { code?: number }) => err.code === 0x87,
    )
    await assert.rejects(
      viewer.publishAsync(telemetry('tank-1'), '{"level": 1}', { qos: 1 }),
      (err: { code?: number }) => err.code === 0x87,
    )
    const audit = await admin.get('/api/v1/audit?action=mqtt.subscribe')
    assert.ok(
      (audit.body.items as { outcome: string }[]).some((e) => e.outcome === 'denied'),
      'denied subscriptions are audited',
    )
  })

  it('admits API tokens only with telemetry:read, the user name api and an app/<tokenId> client id', async () => {
    const provisioner = await apiToken(admin, 'provisioner')
    const base = { username: 'api', password: provisioner.token }
    assert.equal(await refusedWith({ ...base, clientId: `app/${provisioner.id}` }), 0x87)
    const viewer = await apiToken(admin, 'viewer')
    const ok = { username: 'api', password: viewer.token }
    // A device's client id, another token's, or a bare name would take over someone's session.
    assert.equal(await refusedWith({ ...ok, clientId: 'tank-1' }), 0x85)
    assert.equal(await refusedWith({ ...ok, clientId: `app/${provisioner.id}` }), 0x85)
    assert.equal(await refusedWith({ ...ok, clientId: `app/${viewer.id}x` }), 0x85)
    assert.equal(await refusedWith({ ...ok, clientId: `app/${viewer.id}`, username: 'me' }), 0x86)
    const forged = `${viewer.token.slice(0, -4)}AAAA`
    assert.equal(await refusedWith({ ...ok, password: forged, clientId: `app/${viewer.id}` }), 0x86)
    // A will is a publish: refused with the connection.
    assert.equal(
      await refusedWith({
        ...ok,
        clientId: `app/${viewer.id}/w`,
        will: {
          topic: `${rulesOf('default')}/will`,
          payload: Buffer.from('x'),
          qos: 0,
          retain: true,
        },
      }),
      0x87,
    )
    // MQTT 3.1.1 and a server-assigned client id work too.
    const v4 = await app(viewer, { protocolVersion: 4, clientId: `app/${viewer.id}` })
    assert.equal(v4.connected, true)
    const assigned = await app(viewer, { clientId: '' })
    assert.equal(assigned.connected, true)
  })

  it('revoking the token cuts the app’s session at once', async () => {
    const t = await apiToken(admin, 'viewer')
    const client = await app(t)
    await client.subscribeAsync(`${rulesOf('default')}/#`, { qos: 1 })
    const cut = new Promise<number | undefined>((resolve) => {
      client.once('disconnect', (packet) => resolve(packet.reasonCode))
    })
    await admin.delete(`/api/v1/tokens/${t.id}`)
    assert.equal(await cut, 0x98)
    assert.equal(
      await refusedWith({ username: 'api', password: t.token, clientId: `app/${t.id}` }),
      0x86,
    )
  })

  it('telemetry written over HTTP (line protocol) runs the rules', async () => {
    await admin.post(
      '/api/v1/rules',
      {
        name: 'http-hot',
        enabled: true,
        match: { metrics: ['env.temp'] },
        condition: 'payload["env.temp"] > 30.0',
        transform: '{"temp": payload["env.temp"]}',
        actions: [{ type: 'republish', topic: 'http/{deviceId}', qos: 1 }],
      },
      [201],
    )
    await deviceWithToken(admin, 'room-1')
    const listener = await app(await apiToken(admin, 'viewer'))
    await listener.subscribeAsync(`${rulesOf('default')}/http/#`, { qos: 1 })
    const writer = await apiToken(admin, 'operator')
    const res = await fetch(`${node.httpUrl}/api/v2/write?precision=ms`, {
      method: 'POST',
      headers: { authorization: `Token ${writer.token}`, 'content-type': 'text/plain' },
      body: 'env,device=room-1 temp=21.5\nenv,device=room-1 temp=35.5',
    })
    assert.equal(res.status, 204)
    const message = await eventually('the HTTP-triggered output', () => listener.got[0])
    assert.equal(message.topic, `${rulesOf('default')}/http/room-1`)
    assert.deepEqual(JSON.parse(message.payload), { temp: 35.5 })
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(listener.got.length, 1)
  })

  it('a label PATCH reaches a rule’s device selector at once', async () => {
    await admin.post(
      '/api/v1/rules',
      republishLevel('berlin-only', {
        match: { metrics: ['level'], devices: 'site=berlin' },
        actions: [{ type: 'republish', topic: 'berlin/{deviceId}', qos: 1 }],
      }),
      [201],
    )
    const listener = await app(await apiToken(admin, 'viewer'))
    await listener.subscribeAsync(`${rulesOf('default')}/berlin/#`, { qos: 1 })
    const tank = await device(admin, 'tank-b')
    await tank.publishAsync(telemetry('tank-b'), JSON.stringify({ level: 1 }), { qos: 1 })
    await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(listener.got, [], 'no label yet: not selected')
    await admin.patch('/api/v1/devices/tank-b', { labels: { site: 'berlin' } })
    await tank.publishAsync(telemetry('tank-b'), JSON.stringify({ level: 2 }), { qos: 1 })
    const message = await eventually('the labelled device’s output', () => listener.got[0], 2_000)
    assert.deepEqual(JSON.parse(message.payload), { level: 2, device: 'tank-b' })
  })
})

it('an expired token’s app session is cut', async (t) => {
  let offsetMs = 0
  const expiring = await startTestNode(t, { clock: () => Date.now() + offsetMs })
  const api = await adminOf(expiring)
  const created = await api.post(
    '/api/v1/tokens',
    { name: 'short', role: 'viewer', expiresInDays: 1 },
    [201],
  )
  const token = { token: created.body.token as string, id: created.body.apiToken.id as string }
  const client = await app(token, {}, expiring)
  await client.subscribeAsync(`${rulesOf('default')}/#`, { qos: 1 })
  const cut = new Promise<number | undefined>((resolve) => {
    client.once('disconnect', (packet) => resolve(packet.reasonCode))
  })
  offsetMs = 2 * 86_400_000
  assert.equal(await cut, 0x98)
})
