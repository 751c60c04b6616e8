import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { test } from 'node:test'
import { adminOf, apiClient, deviceWithToken, mosquittoPub, startTestNode } from './node-fixture.js'

test('a newcomer starts a node, sets it up, adds a device, publishes with mosquitto_pub and queries the point', async (t) => {
  const node = await startTestNode(t)
  assert.match(node.setupToken ?? '', /^sst_/)
  const file = await readFile(node.setupTokenPath, 'utf8')
  assert.equal(file.trim(), node.setupToken)
  assert.equal((await stat(node.setupTokenPath)).mode & 0o777, 0o600)

  const admin = await adminOf(node)
  // The setup token is void once used, and its file is gone.
  const again = await apiClient(node.httpUrl).post(
    '/api/v1/setup',
    { setupToken: node.setupToken, email: 'x@example.com', password: 'another long password' },
    [410],
  )
  assert.equal(again.body.code, 'CLOUD_SETUP_DONE')
  await assert.rejects(stat(node.setupTokenPath))

  const token = await deviceWithToken(admin, 'pump-7')
  const ts = Date.now()
  await mosquittoPub(node, 'pump-7', token, JSON.stringify({ ts, values: { temp: 21.5 } }))
  // QoS 1 was acknowledged only once durable: the point is there at once.
  const latest = await admin.get('/api/v1/telemetry/latest?device=pump-7')
  assert.deepEqual(latest.body.items, [
    { key: { device: 'pump-7', metric: 'temp', tags: {} }, type: 'float', time: ts, value: 21.5 },
  ])
  const raw = await admin.get(
    `/api/v1/telemetry/raw?device=pump-7&metric=temp&from=${String(ts - 1000)}&to=${String(ts + 1000)}`,
  )
  assert.deepEqual(raw.body.series[0].values, [21.5])

  const device = await admin.get('/api/v1/devices/pump-7')
  assert.equal(device.body.state, 'active')
  assert.equal(device.body.presence.status, 'offline')
  assert.equal(device.body.presence.reason, 'disconnected')
})

test('the OpenAPI document is served and describes the routes', async (t) => {
  const node = await startTestNode(t)
  const doc = await apiClient(node.httpUrl).get('/api/v1/openapi.json')
  assert.equal(doc.body.openapi, '3.1.0')
  for (const path of [
    '/api/v1/devices',
    '/api/v1/devices/{id}/tokens',
    '/api/v1/telemetry/aggregate',
    '/api/v2/write',
    '/api/v1/audit/verify',
  ]) {
    assert.ok(doc.body.paths[path] !== undefined, `${path} is documented`)
  }
})

test('errors are problem+json with a code', async (t) => {
  const node = await startTestNode(t)
  const res = await fetch(`${node.httpUrl}/api/v1/devices`)
  assert.equal(res.status, 401)
  assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  const body = (await res.json()) as Record<string, unknown>
  assert.equal(body['code'], 'CLOUD_UNAUTHENTICATED')
  assert.equal(body['status'], 401)
  const admin = await adminOf(node)
  const bad = await admin.post('/api/v1/devices', { id: 'has/slash' }, [400])
  assert.equal(bad.body.code, 'CLOUD_INVALID')
})

test('a device that declares a sleep schedule is sleeping, not offline, after a clean disconnect', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/devices', { id: 'sleepy', attributes: { sleepIntervalS: 600 } })
  const token = (await admin.post('/api/v1/devices/sleepy/tokens', {})).body.token as string
  await mosquittoPub(node, 'sleepy', token, '{"battery": 3.9}')
  const device = await admin.get('/api/v1/devices/sleepy')
  assert.equal(device.body.presence.status, 'sleeping')
  assert.ok(device.body.presence.wakeBy > Date.now() + 600_000)
  assert.ok(device.body.presence.lastSeenAt > 0)
})
