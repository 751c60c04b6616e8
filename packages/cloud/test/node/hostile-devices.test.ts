import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { MqttClient } from 'mqtt'
import {
  connect,
  inboxOf,
  subscribeCodes,
  tryConnect,
} from '../../../mqtt/test/behaviour/helpers.js'
import { openCertificateAuthority } from '../../src/identity/index.js'
import { makeCsr } from '../identity/helpers.js'
import {
  adminOf,
  apiClient,
  deviceWithToken,
  startTestNode,
  otherTenantLogin,
} from './node-fixture.js'

/** Publishes at QoS 1 and returns the PUBACK reason code (0 when accepted). */
async function pubackCode(
  client: MqttClient,
  topic: string,
  payload: string | Buffer,
): Promise<number> {
  try {
    await client.publishAsync(topic, payload, { qos: 1 })
    return 0
  } catch (err) {
    return (err as { code?: number }).code ?? -1
  }
}

test('a device stays inside its namespace whatever it sends, and refusals are audited', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'dev-a')
  await deviceWithToken(admin, 'dev-b')
  const client = await connect(t, node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'dev-a',
    username: 'dev-a',
    password: token,
  })
  const codes = await subscribeCodes(
    client,
    [
      '#',
      '+/#',
      'strata/v1/devices/+/telemetry',
      'strata/v1/devices/dev-b/twin/desired',
      '$share/g/#',
      '$SYS/#',
      'strata/v1/devices/dev-a/#',
      'strata/v1/devices/dev-a/twin/desired',
      'strata/v1/devices/dev-a/errors',
    ],
    { qos: 1 },
  )
  assert.deepEqual(codes, [0x87, 0x87, 0x87, 0x87, 0x87, 0x87, 0x87, 1, 1])
  assert.equal(await pubackCode(client, 'strata/v1/devices/dev-b/telemetry', '{"x":1}'), 0x87)
  assert.equal(await pubackCode(client, 'strata/v1/devices/dev-a/twin/desired', '{}'), 0x87)
  assert.equal(await pubackCode(client, '$SYS/broker/uptime', '1'), 0x87)
  const latest = await admin.get('/api/v1/telemetry/latest?device=dev-b')
  assert.deepEqual(latest.body.items, [])
  const denied = await admin.get('/api/v1/audit?outcome=denied&actor=device:dev-a')
  assert.ok(denied.body.items.some((e: any) => e.action === 'mqtt.subscribe'))
  assert.ok(denied.body.items.some((e: any) => e.action === 'mqtt.publish'))
})

test('a bad payload is refused with a reason, reported on the errors topic and in the API, and poisons nothing', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'dev-a')
  const client = await connect(t, node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'dev-a',
    username: 'dev-a',
    password: token,
  })
  await client.subscribeAsync('strata/v1/devices/dev-a/errors', { qos: 1 })
  const topic = 'strata/v1/devices/dev-a/telemetry'
  const ts = Date.now()
  const results = await Promise.all([
    pubackCode(client, topic, JSON.stringify({ ts, values: { temp: 1.5 } })),
    pubackCode(client, topic, '{"temp": '),
    pubackCode(client, topic, JSON.stringify({ ts: ts + 1, values: { temp: 2.5 } })),
    pubackCode(client, `${topic}/lp`, 'env temp=oops'),
    pubackCode(client, topic, Buffer.alloc(300 * 1024, 0x20)),
    pubackCode(client, topic, JSON.stringify({ ts: ts + 2, values: { temp: 'a string now' } })),
  ])
  assert.equal(results[0], 0)
  assert.equal(results[1], 0x99)
  assert.equal(results[2], 0)
  assert.equal(results[3], 0x99)
  assert.ok(results[4] >= 0x80, `oversized payload refused (${String(results[4])})`)
  assert.equal(results[5], 0x83, 'a value of another type than the series holds')
  const raw = await admin.get(
    `/api/v1/telemetry/raw?device=dev-a&metric=temp&from=${String(ts)}&to=${String(ts + 10)}`,
  )
  assert.deepEqual(raw.body.series[0].values, [1.5, 2.5])
  const errors = await inboxOf(client).waitFor(3)
  const first = JSON.parse(errors[0]!.payload)
  assert.equal(first.topic, topic)
  assert.equal(first.error.code, 'PROTOCOL_MALFORMED')
  const summary = await admin.get('/api/v1/devices/dev-a/errors')
  assert.ok(summary.body.count >= 3)
})

test('wrong credentials are refused: another CA, another device token, garbage, a flood of connects', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const tokenA = await deviceWithToken(admin, 'dev-a')
  await deviceWithToken(admin, 'dev-b')
  // The token of dev-a does not make anyone dev-b.
  const asB = await tryConnect(node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'dev-b',
    username: 'dev-b',
    password: tokenA,
  })
  assert.equal(asB.error?.code, 0x86)
  const clientIdMismatch = await tryConnect(node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'dev-b',
    username: 'dev-a',
    password: tokenA,
  })
  assert.equal(clientIdMismatch.error?.code, 0x85)
  const garbage = await tryConnect(node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'dev-a',
    username: 'dev-a',
    password: 'hunter2',
  })
  assert.equal(garbage.error?.code, 0x86)
  const anonymous = await tryConnect(node.mqttUrl, { protocolVersion: 4, clientId: 'dev-a' })
  assert.equal(anonymous.error?.code, 4)

  // A certificate that names dev-a but comes from another CA.
  const dir = await mkdtemp(join(tmpdir(), 'strata-other-ca-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const other = await openCertificateAuthority({ dir })
  const { csrPem, keyPem } = await makeCsr('p256')
  const forged = await other.issueDeviceCertificate({
    csrPem,
    tenantId: 'default',
    deviceId: 'dev-a',
  })
  const withForged = await tryConnect(node.mqttsUrl, {
    protocolVersion: 5,
    clientId: 'dev-a',
    key: keyPem,
    cert: forged.certificatePem,
    ca: node.caChainPem,
    servername: 'localhost',
  })
  assert.equal(withForged.error?.code, 0x86)

  // A device reconnecting in a loop is slowed down, not served forever.
  const codes: (number | string | undefined)[] = []
  for (let i = 0; i < 14; i++) {
    const r = await tryConnect(node.mqttUrl, {
      protocolVersion: 5,
      clientId: 'dev-a',
      username: 'dev-a',
      password: 'x',
    })
    codes.push(r.error?.code)
  }
  assert.ok(codes.includes(0x9f), `connection rate exceeded among ${codes.join(',')}`)
  const audit = await admin.get('/api/v1/audit?action=mqtt.connect&outcome=denied')
  assert.ok(
    audit.body.items.length >= 2,
    'refusals are audited (at most one per client and kind every 10 s)',
  )
})

test('one tenant never sees another tenant’s devices, data or tokens', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const tokenA = await deviceWithToken(admin, 'dev-a')
  const device = await connect(t, node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'dev-a',
    username: 'dev-a',
    password: tokenA,
  })
  await device.publishAsync('strata/v1/devices/dev-a/telemetry', '{"secret": 42}', { qos: 1 })

  const login = await otherTenantLogin(node, admin)
  const acme = apiClient(node.httpUrl, login.body.token)
  assert.deepEqual((await acme.get('/api/v1/devices')).body.items, [])
  assert.equal((await acme.get('/api/v1/devices/dev-a', [404])).body.code, 'CLOUD_NOT_FOUND')
  assert.deepEqual((await acme.get('/api/v1/telemetry/latest?device=dev-a')).body.items, [])
  assert.deepEqual((await acme.get('/api/v1/tokens')).body.items, [])
  await acme.post('/api/v1/devices/dev-a/revoke', {}, [404])
  await acme.post('/api/v1/tenants', { id: 'evil', name: 'x' }, [403])
  assert.deepEqual(
    (await acme.get('/api/v1/audit')).body.items.filter((e: any) => e.tenantId !== 'acme'),
    [],
  )

  // A viewer token reads but cannot change anything.
  const viewer = await admin.post('/api/v1/tokens', { name: 'wall screen', role: 'viewer' })
  const view = apiClient(node.httpUrl, viewer.body.token)
  assert.equal((await view.get('/api/v1/devices')).body.items.length, 1)
  assert.equal(
    (await view.post('/api/v1/devices', { id: 'x' }, [403])).body.code,
    'CLOUD_FORBIDDEN',
  )
  await view.post('/api/v1/tokens', { name: 'escalate', role: 'admin' }, [403])
  await admin.delete(`/api/v1/tokens/${String(viewer.body.apiToken.id)}`)
  await view.get('/api/v1/devices', [401])
})

test("a device's profile sets its message rate, payload size and the metrics it may send", async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/profiles', {
    id: 'thermo',
    spec: {
      limits: { messagesPerSecond: 1, burst: 5, maxPayloadBytes: 100 },
      metrics: { temp: { type: 'float', unit: '°C' } },
      strictMetrics: true,
    },
  })
  await admin.post('/api/v1/devices', { id: 'th-1', profileId: 'thermo' })
  const token = (await admin.post('/api/v1/devices/th-1/tokens', {})).body.token as string
  const client = await connect(t, node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'th-1',
    username: 'th-1',
    password: token,
  })
  const topic = 'strata/v1/devices/th-1/telemetry'
  assert.equal(await pubackCode(client, topic, '{"temp": 21.5}'), 0)
  assert.equal(
    await pubackCode(client, topic, '{"temp": "warm"}'),
    0x99,
    'declared float, sent a string',
  )
  assert.equal(
    await pubackCode(client, topic, '{"humidity": 40}'),
    0x99,
    'undeclared metric under strictMetrics',
  )
  assert.equal(
    await pubackCode(client, topic, JSON.stringify({ temp: 1, pad: 'x'.repeat(200) })),
    0x99,
    'over the profile payload size',
  )
  assert.equal(await pubackCode(client, topic, '{"temp": 22.5}'), 0)
  assert.equal(await pubackCode(client, topic, '{"temp": 23.5}'), 0x97, 'over the burst of 5')
  const summary = await admin.get('/api/v1/devices/th-1/errors')
  assert.equal(summary.body.last.code, 'CLOUD_RATE_LIMITED')
})
