import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  closedWithin,
  connect,
  inboxOf,
  nextEvent,
  tryConnect,
} from '../../../mqtt/test/behaviour/helpers.js'
import { makeCsr } from '../identity/helpers.js'
import { adminOf, deviceWithToken, startTestNode } from './node-fixture.js'

test('a device with a certificate from a CSR connects over mutual TLS and its telemetry is stored', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/devices', { id: 'meter-1' })
  const { csrPem, keyPem } = await makeCsr('p256')
  const issued = await admin.post('/api/v1/devices/meter-1/certificates', { csr: csrPem })
  const client = await connect(t, node.mqttsUrl, {
    protocolVersion: 5,
    clientId: 'meter-1',
    key: keyPem,
    cert: issued.body.certificatePem,
    ca: node.caChainPem,
    rejectUnauthorized: true,
    servername: 'localhost',
  })
  const ts = Date.now()
  await client.publishAsync(
    'strata/v1/devices/meter-1/telemetry',
    JSON.stringify({ ts, values: { kwh: 12.25 } }),
    { qos: 1 },
  )
  const latest = await admin.get('/api/v1/telemetry/latest?device=meter-1&metric=kwh')
  assert.equal(latest.body.items[0].value, 12.25)

  // Revoking the certificate cuts the live session at once and refuses the next connect.
  const serial = issued.body.certificate.serialNumber as string
  const started = Date.now()
  await admin.post(`/api/v1/devices/meter-1/certificates/${serial}/revoke`, {
    reason: 'key compromised',
  })
  await closedWithin(client, 1_000)
  assert.ok(Date.now() - started < 1_000)
  const again = await tryConnect(node.mqttsUrl, {
    protocolVersion: 5,
    clientId: 'meter-1',
    key: keyPem,
    cert: issued.body.certificatePem,
    ca: node.caChainPem,
    servername: 'localhost',
  })
  assert.equal(again.error?.code, 0x87)
})

test('a device provisions itself with a claim token over MQTT, then connects with its certificate', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const claim = await admin.post('/api/v1/claims', {
    name: 'batch 7',
    maxUses: 1,
    labels: { batch: '7' },
  })
  const { csrPem, keyPem } = await makeCsr('p256')
  const tls = { ca: node.caChainPem, servername: 'localhost', rejectUnauthorized: true }
  const prov = await connect(t, node.mqttsUrl, {
    protocolVersion: 5,
    clientId: 'SN-0042',
    username: 'SN-0042',
    password: claim.body.token,
    ...tls,
  })
  await prov.subscribeAsync('strata/v1/provisioning/SN-0042/response', { qos: 1 })
  await prov.publishAsync(
    'strata/v1/provisioning/SN-0042/request',
    JSON.stringify({ csr: csrPem, serial: 'SN-0042', attributes: { site: 'berlin' } }),
    { qos: 1 },
  )
  const [reply] = await inboxOf(prov).waitFor(1)
  const response = JSON.parse(reply!.payload)
  assert.equal(response.status, 'ok')
  assert.equal(response.deviceId, 'SN-0042')
  // A provisioning client may not act as a device.
  await assert.rejects(
    prov.publishAsync('strata/v1/devices/SN-0042/telemetry', '{"x":1}', { qos: 1 }),
  )
  await prov.endAsync()

  const device = await admin.get('/api/v1/devices/SN-0042')
  assert.deepEqual(device.body.labels, { batch: '7' })
  assert.equal(device.body.attributes.site, 'berlin')
  const client = await connect(t, node.mqttsUrl, {
    protocolVersion: 5,
    clientId: 'SN-0042',
    key: keyPem,
    cert: response.certificate,
    ...tls,
  })
  await client.publishAsync('strata/v1/devices/SN-0042/telemetry', '{"t":1.5}', { qos: 1 })

  // The claim had one use: a second device is refused at connect.
  const reused = await tryConnect(node.mqttsUrl, {
    protocolVersion: 5,
    clientId: 'SN-0043',
    username: 'SN-0043',
    password: claim.body.token,
    ...tls,
  })
  assert.equal(reused.error?.code, 0x86)
  const claims = await admin.get('/api/v1/claims')
  assert.equal(claims.body.items[0].uses, 1)
})

test('revoking a device cuts its session within a second and refuses its token', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'pump-1')
  const options = {
    protocolVersion: 5 as const,
    clientId: 'pump-1',
    username: 'pump-1',
    password: token,
  }
  const client = await connect(t, node.mqttUrl, options)
  const disconnect = nextEvent<{ reasonCode?: number }>(client, 'disconnect', 1_000)
  await admin.post('/api/v1/devices/pump-1/revoke', { reason: 'stolen' })
  assert.equal((await disconnect).reasonCode, 0x98)
  const again = await tryConnect(node.mqttUrl, options)
  assert.equal(again.error?.code, 0x86)
  const audit = await admin.get('/api/v1/audit?action=device.revoke')
  assert.equal(audit.body.items.length, 1)
  const verify = await admin.get('/api/v1/audit/verify')
  assert.equal(verify.body.ok, true)
})

test('a disabled device is refused until enabled again', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'pump-2')
  const options = {
    protocolVersion: 4 as const,
    clientId: 'pump-2',
    username: 'pump-2',
    password: token,
  }
  await admin.post('/api/v1/devices/pump-2/disable', {})
  assert.equal((await tryConnect(node.mqttUrl, options)).error?.code, 5)
  await admin.post('/api/v1/devices/pump-2/enable', {})
  const client = await connect(t, node.mqttUrl, options)
  assert.ok(client.connected)
})

test('a device renews its certificate over MQTT before it expires and connects with the new one', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/devices', { id: 'meter-2' })
  const first = await makeCsr('p256')
  const issued = await admin.post('/api/v1/devices/meter-2/certificates', { csr: first.csrPem })
  const tls = { ca: node.caChainPem, servername: 'localhost', rejectUnauthorized: true }
  const client = await connect(t, node.mqttsUrl, {
    protocolVersion: 5,
    clientId: 'meter-2',
    key: first.keyPem,
    cert: issued.body.certificatePem,
    ...tls,
  })
  await client.subscribeAsync('strata/v1/devices/meter-2/certificate/response', { qos: 1 })
  const next = await makeCsr('p256')
  await client.publishAsync(
    'strata/v1/devices/meter-2/certificate/request',
    JSON.stringify({ csr: next.csrPem, requestId: 'r-1' }),
    { qos: 1 },
  )
  const [reply] = await inboxOf(client).waitFor(1)
  const response = JSON.parse(reply!.payload)
  assert.equal(response.status, 'ok')
  assert.equal(response.requestId, 'r-1')
  await client.endAsync()
  const renewed = await connect(t, node.mqttsUrl, {
    protocolVersion: 5,
    clientId: 'meter-2',
    key: next.keyPem,
    cert: response.certificate,
    ...tls,
  })
  assert.ok(renewed.connected)
  const certs = await admin.get('/api/v1/devices/meter-2/certificates')
  assert.equal(certs.body.items.length, 2)
})
