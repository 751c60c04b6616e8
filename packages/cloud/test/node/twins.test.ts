import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { MqttClient } from 'mqtt'
import { connect, inboxOf, nextEvent, sleep } from '../../../mqtt/test/behaviour/helpers.js'
import { adminOf, apiClient, deviceWithToken, startTestNode } from './node-fixture.js'

type Client = ReturnType<typeof apiClient>

/** A device over MQTT 5 with a persistent session (clean start false, an hour of expiry). */
async function device(
  t: TestContext,
  node: { mqttUrl: string },
  id: string,
  token: string,
  options: { clean?: boolean; protocolVersion?: 4 | 5 } = {},
): Promise<MqttClient> {
  return connect(t, node.mqttUrl, {
    protocolVersion: options.protocolVersion ?? 5,
    clientId: id,
    username: id,
    password: token,
    clean: options.clean ?? false,
    ...(options.protocolVersion === 4 ? {} : { properties: { sessionExpiryInterval: 3600 } }),
  })
}

/** Publishes at QoS 1 and returns the PUBACK reason code (0 when accepted). */
async function pubackCode(client: MqttClient, topic: string, payload: string | Buffer) {
  try {
    await client.publishAsync(topic, payload, { qos: 1 })
    return 0
  } catch (err) {
    return (err as { code?: number }).code ?? -1
  }
}

/** Messages on one topic, parsed, once there are at least `n`. */
async function received(client: MqttClient, topic: string, n: number, timeoutMs = 3000) {
  const inbox = inboxOf(client)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const on = inbox.messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload))
    if (on.length >= n) return on
    if (Date.now() > deadline)
      throw new Error(`waited for ${String(n)} on ${topic}, got ${JSON.stringify(on)}`)
    await sleep(10)
  }
}

async function twinOf(api: Client, id: string, query = '') {
  return (await api.get(`/api/v1/devices/${id}/twin${query}`)).body
}

const base = (id: string) => `strata/v1/devices/${id}`

test('a desired change waits for a sleeping device and reaches it on reconnect; If-Match guards it', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'pump-1')
  const first = await device(t, node, 'pump-1', token)
  await first.subscribeAsync(`${base('pump-1')}/twin/desired`, { qos: 1 })
  await first.endAsync()

  const empty = await admin.get('/api/v1/devices/pump-1/twin')
  assert.equal(empty.headers.get('etag'), '"0.0"')
  assert.deepEqual([empty.body.desired, empty.body.desiredVersion], [{}, 0])

  const bearer = await tokenOf(admin)
  const patchIf = (ifMatch: string, body: unknown) =>
    fetch(`${node.httpUrl}/api/v1/devices/pump-1/twin/desired`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${bearer}`,
        'content-type': 'application/merge-patch+json',
        'if-match': ifMatch,
      },
      body: JSON.stringify(body),
    })
  const res = await patchIf('"0"', { config: { interval: 30, mode: 'eco' } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('etag'), '"1.0"')
  const stale = await patchIf('"0"', { x: 1 })
  assert.equal(stale.status, 412)
  assert.equal(stale.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  const problem = (await stale.json()) as { code: string; details: { desiredVersion: number } }
  assert.deepEqual([problem.code, problem.details.desiredVersion], ['CLOUD_PRECONDITION_FAILED', 1])
  assert.equal((await patchIf('"7.3", "1.0"', {})).status, 200, 'a list naming the ETag matches')

  // The broker kept the delta in the device's session; on wake it arrives.
  const woke = await device(t, node, 'pump-1', token)
  const [delta] = await received(woke, `${base('pump-1')}/twin/desired`, 1)
  assert.deepEqual(delta, { version: 1, desired: { config: { interval: 30, mode: 'eco' } } })
  await sleep(100)
  for (const d of await received(woke, `${base('pump-1')}/twin/desired`, 1))
    assert.equal(d.version, 1, 'every copy is version 1')
  assert.equal((await twinOf(admin, 'pump-1')).deliveredDesiredVersion, 1)

  // Online now: the next change goes out as its patch, null included.
  const before = (await received(woke, `${base('pump-1')}/twin/desired`, 1)).length
  await admin.patch('/api/v1/devices/pump-1/twin/desired', { config: { mode: null } })
  const live = await received(woke, `${base('pump-1')}/twin/desired`, before + 1)
  assert.deepEqual(live.at(-1), { version: 2, desired: { config: { mode: null } } })
  const twin = await twinOf(admin, 'pump-1')
  assert.deepEqual(twin.desired, { config: { interval: 30 } })
  assert.deepEqual(Object.keys(twin.metadata.desired), ['/config/interval'])
  const audit = await admin.get('/api/v1/audit?action=twin.desired.update')
  assert.deepEqual(
    audit.body.items.map((e: any) => [e.details.version, e.details.changed]),
    [
      [2, true],
      [1, false],
      [1, true],
    ],
  )
})

test('a device without its session (new or expired) gets the whole desired document when it subscribes', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'th-2')
  await admin.patch('/api/v1/devices/th-2/twin/desired', { a: 1, b: { c: 2 } })
  await admin.patch('/api/v1/devices/th-2/twin/desired', { a: null, d: [1, 2] })
  // A clean session: nothing was queued for it.
  const client = await device(t, node, 'th-2', token, { clean: true, protocolVersion: 4 })
  await client.subscribeAsync(`${base('th-2')}/twin/desired`, { qos: 1 })
  const [full] = await received(client, `${base('th-2')}/twin/desired`, 1)
  assert.deepEqual(full, { version: 2, desired: { b: { c: 2 }, d: [1, 2] } })
  assert.equal((await twinOf(admin, 'th-2')).deliveredDesiredVersion, 2)
  await sleep(150)
  assert.equal((await received(client, `${base('th-2')}/twin/desired`, 1)).length, 1, 'sent once')
})

test('reported patches merge, twin/get answers on twin/document, history shows both sides with their sources, and the twin at a time T', async (t) => {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const node = await startTestNode(t, { clock: () => now })
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'gw-3')
  const client = await device(t, node, 'gw-3', token)
  await client.subscribeAsync(`${base('gw-3')}/twin/document`, { qos: 1 })
  const reported = `${base('gw-3')}/twin/reported`

  const t1 = (now += 1000)
  assert.equal(
    await pubackCode(
      client,
      reported,
      '{"firmware": "2.0", "config": {"interval": 60, "legacy": true}}',
    ),
    0,
  )
  const t2 = (now += 1000)
  await admin.patch('/api/v1/devices/gw-3/twin/desired', { config: { interval: 30 } })
  const t3 = (now += 1000)
  assert.equal(
    await pubackCode(client, reported, '{"firmware": "2.1", "config": {"legacy": null}}'),
    0,
  )

  const twin = await twinOf(admin, 'gw-3')
  assert.deepEqual(twin.reported, { firmware: '2.1', config: { interval: 60 } })
  assert.deepEqual([twin.reportedVersion, twin.desiredVersion], [2, 1])
  assert.deepEqual(twin.metadata.reported, { '/firmware': t3, '/config/interval': t1 })
  assert.equal(twin.reportedUpdatedAt, t3)

  await pubackCode(client, `${base('gw-3')}/twin/get`, '{"requestId": "r1"}')
  const [doc] = await received(client, `${base('gw-3')}/twin/document`, 1)
  assert.deepEqual(doc, {
    requestId: 'r1',
    version: 1,
    desired: { config: { interval: 30 } },
    reported: twin.reported,
  })

  const history = (await admin.get('/api/v1/devices/gw-3/twin/history')).body.items
  assert.deepEqual(
    history.map((h: any) => [h.side, h.version, h.at, h.source.split(':')[0]]),
    [
      ['reported', 2, t3, 'device'],
      ['desired', 1, t2, 'user'],
      ['reported', 1, t1, 'device'],
    ],
  )
  assert.deepEqual(history[0].patch, { firmware: '2.1', config: { legacy: null } })
  const desiredOnly = await admin.get('/api/v1/devices/gw-3/twin/history?side=desired')
  assert.deepEqual(
    desiredOnly.body.items.map((h: any) => h.version),
    [1],
  )
  const paged = await admin.get(`/api/v1/devices/gw-3/twin/history?limit=2&from=${String(t1 + 1)}`)
  assert.deepEqual([paged.body.items.length, paged.body.nextCursor], [2, null])

  const atT1 = await twinOf(admin, 'gw-3', `?at=${String(t1)}`)
  assert.deepEqual(
    [atT1.reported, atT1.desired, atT1.reportedVersion, atT1.asOf],
    [{ firmware: '2.0', config: { interval: 60, legacy: true } }, {}, 1, t1],
  )
  const atT2 = await twinOf(admin, 'gw-3', `?at=${new Date(t2).toISOString()}`)
  assert.deepEqual(
    [atT2.desired, atT2.desiredVersion, atT2.reportedVersion],
    [{ config: { interval: 30 } }, 1, 1],
  )
  const before = await twinOf(admin, 'gw-3', `?at=${String(t1 - 1)}`)
  assert.deepEqual([before.reported, before.reportedVersion], [{}, 0])
  const bad = await admin.get('/api/v1/devices/gw-3/twin?at=yesterday', [400])
  assert.equal(bad.body.details.field, 'at')
})

test('fleet query: JSON paths of reported, desired and attributes with labels, safely', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const fleet = [
    ['f1', 'berlin', '2.1', 30],
    ['f2', 'berlin', '2.0', 60],
    ['f3', 'paris', '2.1', 90],
  ] as const
  for (const [id, site, firmware, interval] of fleet) {
    await admin.post('/api/v1/devices', { id, labels: { site }, attributes: { model: 'x1' } })
    const token = (await admin.post(`/api/v1/devices/${id}/tokens`, {})).body.token as string
    const client = await device(t, node, id, token)
    await pubackCode(client, `${base(id)}/twin/reported`, JSON.stringify({ firmware, n: interval }))
    await admin.patch(`/api/v1/devices/${id}/twin/desired`, { config: { interval } })
  }
  await admin.post('/api/v1/devices', { id: 'f4', labels: { site: 'berlin' } })
  const ids = async (q: string) =>
    (await admin.get(`/api/v1/twins?${q}`)).body.items.map((x: any) => x.deviceId)
  assert.deepEqual(await ids('where=reported.firmware=2.1'), ['f1', 'f3'])
  assert.deepEqual(await ids('where=reported.firmware=2.1&label=site=berlin'), ['f1'])
  assert.deepEqual(await ids('where=reported.firmware="2.0"'), ['f2'])
  assert.deepEqual(await ids('where=desired.config.interval>=60'), ['f2', 'f3'])
  assert.deepEqual(await ids('where=reported.n<60,reported.firmware!=2.0'), ['f1'])
  assert.deepEqual(await ids('where=!reported.firmware'), ['f4'])
  assert.deepEqual(await ids('where=attributes.model=x1,desired.config'), ['f1', 'f2', 'f3'])
  assert.deepEqual(await ids('labels=site=berlin&limit=2'), ['f1', 'f2'])
  const page = await admin.get('/api/v1/twins?labels=site=berlin&limit=2')
  const next = await admin.get(
    `/api/v1/twins?labels=site=berlin&limit=2&cursor=${page.body.nextCursor as string}`,
  )
  assert.deepEqual(
    next.body.items.map((x: any) => x.deviceId),
    ['f4'],
  )
  const full = (await admin.get('/api/v1/twins?where=reported.firmware=2.0')).body.items[0]
  assert.deepEqual(
    [full.reported, full.desired],
    [{ firmware: '2.0', n: 60 }, { config: { interval: 60 } }],
  )

  for (const hostile of [
    "reported.x'%20OR%201=1--=1",
    'reported=1',
    'secrets.x=1',
    'reported.a.b.c.d.e.f.g.h.i=1',
    'reported.x>true',
    '!reported.x=1',
  ]) {
    const res = await admin.get(`/api/v1/twins?where=${hostile}`, [400])
    assert.equal(res.body.details.field, 'where', hostile)
  }
  // A value is a bound parameter: quotes in it find nothing and break nothing.
  assert.deepEqual(await ids(`where=reported.firmware=${encodeURIComponent("2.1' OR '1'='1")}`), [])
})

test('a twin too large is refused: 10 MB over HTTP (413), oversized patches over MQTT (twin/rejected, 0x99)', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'big')

  const huge = JSON.stringify({ blob: 'x'.repeat(10 * 1024 * 1024) })
  const res = await fetch(`${node.httpUrl}/api/v1/devices/big/twin/desired`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${await tokenOf(admin)}`,
      'content-type': 'application/json',
    },
    body: huge,
  })
  const problem = (await res.json()) as Record<string, unknown>
  assert.deepEqual([res.status, problem.code], [413, 'CLOUD_TWIN_TOO_LARGE'])
  // Under the body limit, but the document would grow past 256 KiB.
  const chunk = 'y'.repeat(150 * 1024)
  await admin.patch('/api/v1/devices/big/twin/desired', { a: chunk })
  const grown = await admin.patch('/api/v1/devices/big/twin/desired', { b: chunk }, [413])
  assert.equal(grown.body.code, 'CLOUD_TWIN_TOO_LARGE')
  assert.match(grown.body.detail, /over the limit of 262144/)
  let deep: unknown = 1
  for (let i = 0; i < 20; i++) deep = { d: deep }
  const tooDeep = await admin.patch('/api/v1/devices/big/twin/desired', { deep }, [413])
  assert.match(tooDeep.body.detail, /deeper than 16 levels/)
  const badName = await admin.patch('/api/v1/devices/big/twin/desired', { _x: 1 }, [400])
  assert.equal(badName.body.code, 'CLOUD_INVALID')
  assert.equal((await twinOf(admin, 'big')).desiredVersion, 1)

  const client = await device(t, node, 'big', token)
  await client.subscribeAsync(`${base('big')}/twin/rejected`, { qos: 1 })
  const reported = `${base('big')}/twin/reported`
  // Over the protocol's 64 KiB per message.
  assert.equal(await pubackCode(client, reported, JSON.stringify({ a: 'z'.repeat(100_000) })), 0x99)
  // Each message fits, the document would not.
  const piece = 'w'.repeat(60 * 1024)
  for (const k of ['a', 'b', 'c', 'd'])
    assert.equal(await pubackCode(client, reported, JSON.stringify({ [k]: piece })), 0)
  assert.equal(await pubackCode(client, reported, JSON.stringify({ e: piece })), 0x99)
  const rejected = await received(client, `${base('big')}/twin/rejected`, 2)
  assert.deepEqual(
    rejected.map((r) => r.error.code),
    ['PROTOCOL_TOO_LARGE', 'CLOUD_TWIN_TOO_LARGE'],
  )
  // 10 MB is over the broker's packet limit (1 MiB, announced in CONNACK): the connection ends
  // with DISCONNECT 0x95 before anything reaches the twin, and the device may come back.
  const disconnected = nextEvent<{ reasonCode?: number }>(client, 'disconnect', 5000)
  client.publish(reported, JSON.stringify({ blob: 'x'.repeat(10 * 1024 * 1024) }), { qos: 1 })
  assert.equal((await disconnected).reasonCode, 0x95)
  const again = await device(t, node, 'big', token)
  assert.equal(await pubackCode(again, reported, '{"d": null}'), 0)
  const twin = await twinOf(admin, 'big')
  assert.deepEqual([twin.reportedVersion, Object.keys(twin.reported)], [5, ['a', 'b', 'c']])
  const errors = await admin.get('/api/v1/devices/big/errors')
  assert.equal(errors.body.last.code, 'CLOUD_TWIN_TOO_LARGE')
})

test('a viewer reads twins but cannot change them; an unknown device has none', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/devices', { id: 'v1' })
  await admin.patch('/api/v1/devices/v1/twin/desired', { a: 1 })
  const viewer = await admin.post('/api/v1/tokens', { name: 'wall', role: 'viewer' })
  const view = apiClient(node.httpUrl, viewer.body.token)
  assert.deepEqual((await twinOf(view, 'v1')).desired, { a: 1 })
  const refused = await view.patch('/api/v1/devices/v1/twin/desired', { a: 2 }, [403])
  assert.equal(refused.body.code, 'CLOUD_FORBIDDEN')
  await view.get('/api/v1/devices/nope/twin', [404])
  const openapi = (await view.get('/api/v1/openapi.json')).body
  for (const path of [
    '/api/v1/devices/{id}/twin',
    '/api/v1/devices/{id}/twin/desired',
    '/api/v1/devices/{id}/twin/history',
    '/api/v1/twins',
  ])
    assert.ok(openapi.paths[path], path)
  await admin.patch('/api/v1/devices/nope/twin/desired', { a: 1 }, [404])
})

async function tokenOf(api: Client): Promise<string> {
  // The admin client holds a session token; an API token of the same tenant does the same job.
  const created = await api.post('/api/v1/tokens', {
    name: `t${String(Math.random())}`,
    role: 'admin',
  })
  return created.body.token as string
}
