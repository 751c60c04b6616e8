import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { tryConnect } from '../../../mqtt/test/behaviour/helpers.js'
import {
  adminOf,
  apiClient,
  deviceWithToken,
  startTestNode,
  otherTenantLogin,
} from './node-fixture.js'

type Client = ReturnType<typeof apiClient>

/** Every member id of a group, following cursors `limit` at a time. */
async function memberIds(api: Client, group: string, limit = 100): Promise<string[][]> {
  const pages: string[][] = []
  let cursor: string | null = null
  do {
    const q: string = cursor === null ? '' : `&cursor=${cursor}`
    const page = await api.get(`/api/v1/groups/${group}/members?limit=${String(limit)}${q}`)
    pages.push(page.body.items.map((d: any) => d.id))
    cursor = page.body.nextCursor
  } while (cursor !== null)
  return pages
}

/** Connects as the device and says a clean goodbye; returns its presence after that. */
async function connectAndLeave(
  node: { mqttUrl: string; httpUrl: string },
  admin: Client,
  id: string,
  token: string,
) {
  const { client } = await tryConnect(node.mqttUrl, {
    protocolVersion: 5,
    clientId: id,
    username: id,
    password: token,
  })
  assert.ok(client)
  await client.endAsync()
  for (let i = 0; i < 50; i++) {
    const presence = (await admin.get(`/api/v1/devices/${id}`)).body.presence
    if (presence.status !== 'online') return presence
    await sleep(20)
  }
  throw new Error(`${id} still online`)
}

test('profiles: created with defaults filled in, refused naming the bad field, not deleted while in use', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const created = await admin.post('/api/v1/profiles', {
    id: 'thermo-v2',
    name: 'Thermometer v2',
    description: 'battery thermometer',
    spec: { limits: { messagesPerSecond: 50 }, metrics: { temp: { type: 'float', unit: '°C' } } },
  })
  assert.equal(created.status, 201)
  assert.deepEqual(created.body.spec, {
    limits: { messagesPerSecond: 50, burst: 2000, maxPayloadBytes: 262144 },
    metrics: { temp: { type: 'float', unit: '°C' } },
    strictMetrics: false,
  })
  await admin.post('/api/v1/profiles', { id: 'thermo-v2' }, [409])

  const refusals: [unknown, string, string][] = [
    [{ id: '_hidden' }, 'id', '_hidden'],
    [
      { id: 'p', spec: { limits: { messagesPerSecond: 20_000 } } },
      'spec/limits/messagesPerSecond',
      '<= 10000',
    ],
    [
      { id: 'p', spec: { limits: { maxPayloadBytes: 10 } } },
      'spec/limits/maxPayloadBytes',
      '>= 64',
    ],
    [
      { id: 'p', spec: { limits: { messagesPerSecond: 500, burst: 100 } } },
      'spec/limits/burst',
      'below',
    ],
    [
      { id: 'p', spec: { metrics: { temp: { type: 'double' } } } },
      'spec/metrics/temp/type',
      'allowed',
    ],
    [
      { id: 'p', spec: { metrics: { t: { type: 'int', unit: 'x'.repeat(33) } } } },
      'spec/metrics/t/unit',
      '32',
    ],
    [{ id: 'p', spec: { metrics: { _t: { type: 'int' } } } }, 'spec/metrics', '_t'],
    [{ id: 'p', spec: { limit: {} } }, 'spec', '"limit"'],
  ]
  for (const [body, field, words] of refusals) {
    const res = await admin.post('/api/v1/profiles', body, [400])
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    assert.equal(res.body.code, 'CLOUD_INVALID')
    assert.equal(res.body.details.field, field)
    assert.ok(res.body.detail.includes(words), `${res.body.detail as string} says ${words}`)
  }
  await admin.get('/api/v1/profiles/p', [404])

  const patched = await admin.patch('/api/v1/profiles/thermo-v2', {
    name: 'Thermometer',
    spec: { sleepIntervalS: 600, strictMetrics: true },
  })
  assert.equal(patched.body.name, 'Thermometer')
  assert.equal(patched.body.description, 'battery thermometer')
  assert.equal(patched.body.spec.strictMetrics, true)
  assert.equal(patched.body.spec.limits.messagesPerSecond, 200)
  assert.deepEqual(
    (await admin.get('/api/v1/profiles')).body.items.map((p: any) => p.id),
    ['thermo-v2'],
  )

  const device = await admin.post('/api/v1/devices', { id: 'th-1', profileId: 'thermo-v2' })
  assert.equal(device.body.profileId, 'thermo-v2')
  const unknown = await admin.post('/api/v1/devices', { id: 'th-2', profileId: 'nope' }, [400])
  assert.equal(unknown.body.details.field, 'profileId')
  await admin.get('/api/v1/devices/th-2', [404])

  const inUse = await admin.delete('/api/v1/profiles/thermo-v2', [409])
  assert.equal(inUse.body.code, 'CLOUD_CONFLICT')
  await admin.patch('/api/v1/devices/th-1', { profileId: 'nope' }, [400])
  assert.equal(
    (await admin.patch('/api/v1/devices/th-1', { profileId: null })).body.profileId,
    null,
  )
  const deleted = await admin.delete('/api/v1/profiles/thermo-v2')
  assert.deepEqual([deleted.status, deleted.body], [204, undefined])
  await admin.get('/api/v1/profiles/thermo-v2', [404])

  const actions = (await admin.get('/api/v1/audit?limit=100')).body.items.map((e: any) => e.action)
  for (const a of ['profile.create', 'profile.update', 'profile.delete'])
    assert.ok(actions.includes(a), a)
  const openapi = (await admin.get('/api/v1/openapi.json')).body
  assert.ok(openapi.paths['/api/v1/profiles/{id}'])
  assert.ok(openapi.paths['/api/v1/groups/{id}/members/{deviceId}'])
})

test("presence takes the sleep interval from the device's profile, and follows its changes", async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/profiles', { id: 'sleeper', spec: { sleepIntervalS: 600 } })
  await admin.post('/api/v1/devices', { id: 'zz', profileId: 'sleeper' })
  const token = (await admin.post('/api/v1/devices/zz/tokens', {})).body.token as string
  const asleep = await connectAndLeave(node, admin, 'zz', token)
  assert.equal(asleep.status, 'sleeping')
  assert.ok(asleep.wakeBy > Date.now() + 600_000)

  // The profile drops its schedule: the cached spec is replaced, the device's attribute rules.
  await admin.patch('/api/v1/profiles/sleeper', { spec: {} })
  await admin.patch('/api/v1/devices/zz', { attributes: { sleepIntervalS: 60 } })
  const short = await connectAndLeave(node, admin, 'zz', token)
  assert.equal(short.status, 'sleeping')
  assert.ok(short.wakeBy < Date.now() + 600_000)
  await admin.patch('/api/v1/devices/zz', { attributes: {} })
  assert.equal((await connectAndLeave(node, admin, 'zz', token)).status, 'offline')
})

test('static groups: members added all or none, removed, revoked devices drop out', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  for (const id of ['a', 'b', 'c']) await admin.post('/api/v1/devices', { id })
  const group = await admin.post('/api/v1/groups', { id: 'pilot', name: 'Pilot' })
  assert.deepEqual(
    { kind: group.body.kind, query: group.body.query, name: group.body.name },
    { kind: 'static', query: null, name: 'Pilot' },
  )
  await admin.post('/api/v1/groups', { id: 'pilot' }, [409])
  assert.deepEqual(
    (await admin.post('/api/v1/groups/pilot/members', { deviceIds: ['a', 'b'] })).body.added,
    ['a', 'b'],
  )
  assert.deepEqual(
    (await admin.post('/api/v1/groups/pilot/members', { deviceIds: ['b', 'c', 'c'] })).body.added,
    ['c'],
  )
  const bad = await admin.post('/api/v1/groups/pilot/members', { deviceIds: ['a', 'zz'] }, [400])
  assert.equal(bad.body.details.field, 'deviceIds/1')
  assert.deepEqual(await memberIds(admin, 'pilot'), [['a', 'b', 'c']])

  assert.equal((await admin.delete('/api/v1/groups/pilot/members/b')).status, 204)
  await admin.delete('/api/v1/groups/pilot/members/b', [404])
  await admin.post('/api/v1/devices/c/revoke', { reason: 'stolen' })
  assert.deepEqual(await memberIds(admin, 'pilot'), [['a']])
  await admin.post('/api/v1/groups/pilot/members', { deviceIds: ['c'] }, [409])
  assert.deepEqual((await admin.get('/api/v1/groups?device=c')).body.items, [])
  assert.deepEqual(
    (await admin.get('/api/v1/groups?device=a')).body.items.map((g: any) => g.id),
    ['pilot'],
  )

  assert.equal((await admin.delete('/api/v1/groups/pilot')).status, 204)
  await admin.get('/api/v1/groups/pilot/members', [404])
  assert.deepEqual((await admin.get('/api/v1/groups?device=a')).body.items, [])
  const actions = (await admin.get('/api/v1/audit?limit=100')).body.items.map((e: any) => e.action)
  for (const a of ['group.create', 'group.members.add', 'group.members.remove', 'group.delete'])
    assert.ok(actions.includes(a), a)
})

test('a dynamic group follows label changes, pages its members and refuses explicit ones', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  for (let i = 0; i < 7; i++) {
    const site = i % 2 === 0 ? 'berlin' : 'paris'
    await admin.post('/api/v1/devices', { id: `d${String(i)}`, labels: { site } })
  }
  const bad = await admin.post('/api/v1/groups', { id: 'x', query: 'site=berlin,=x' }, [400])
  assert.equal(bad.body.details.field, 'query')
  const berlin = await admin.post('/api/v1/groups', { id: 'berlin', query: 'site=berlin' })
  assert.equal(berlin.body.kind, 'dynamic')
  assert.deepEqual(await memberIds(admin, 'berlin'), [['d0', 'd2', 'd4', 'd6']])

  await admin.patch('/api/v1/devices/d1', { labels: { site: 'berlin' } })
  await admin.patch('/api/v1/devices/d2', { labels: { site: 'paris' } })
  assert.deepEqual(await memberIds(admin, 'berlin', 2), [
    ['d0', 'd1'],
    ['d4', 'd6'],
  ])
  assert.deepEqual(
    (await admin.get('/api/v1/groups?device=d1')).body.items.map((g: any) => g.id),
    ['berlin'],
  )
  assert.deepEqual((await admin.get('/api/v1/groups?device=d2')).body.items, [])

  const conflict = await admin.post('/api/v1/groups/berlin/members', { deviceIds: ['d3'] }, [409])
  assert.equal(conflict.body.code, 'CLOUD_CONFLICT')
  await admin.delete('/api/v1/groups/berlin/members/d1', [409])

  // Static pages too, and groups list a page at a time.
  await admin.post('/api/v1/groups', { id: 'all' })
  const ids = Array.from({ length: 7 }, (_, i) => `d${String(i)}`)
  await admin.post('/api/v1/groups/all/members', { deviceIds: ids.reverse() })
  assert.deepEqual(await memberIds(admin, 'all', 3), [
    ['d0', 'd1', 'd2'],
    ['d3', 'd4', 'd5'],
    ['d6'],
  ])
  const first = await admin.get('/api/v1/groups?limit=1')
  assert.deepEqual(
    first.body.items.map((g: any) => g.id),
    ['all'],
  )
  const second = await admin.get(`/api/v1/groups?limit=1&cursor=${first.body.nextCursor as string}`)
  assert.deepEqual(
    second.body.items.map((g: any) => g.id),
    ['berlin'],
  )
  assert.equal(second.body.nextCursor, null)
})

test('another tenant sees none of it; a viewer token reads but cannot change', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/profiles', { id: 'p1' })
  await admin.post('/api/v1/devices', { id: 'dev-a', profileId: 'p1', labels: { site: 'berlin' } })
  await admin.post('/api/v1/groups', { id: 'berlin', query: 'site=berlin' })
  await admin.post('/api/v1/groups', { id: 'static' })
  await admin.post('/api/v1/groups/static/members', { deviceIds: ['dev-a'] })

  const login = await otherTenantLogin(node, admin)
  const acme = apiClient(node.httpUrl, login.body.token)
  assert.deepEqual((await acme.get('/api/v1/profiles')).body.items, [])
  assert.deepEqual((await acme.get('/api/v1/groups')).body.items, [])
  await acme.get('/api/v1/profiles/p1', [404])
  await acme.get('/api/v1/groups/static/members', [404])
  await acme.get('/api/v1/groups?device=dev-a', [404])
  await acme.post('/api/v1/devices', { id: 'acme-1', profileId: 'p1' }, [400])
  await acme.delete('/api/v1/profiles/p1', [404])
  // Same ids in its own tenant: a dynamic group over the same labels finds only its devices.
  await acme.post('/api/v1/devices', { id: 'acme-1', labels: { site: 'berlin' } })
  await acme.post('/api/v1/groups', { id: 'berlin', query: 'site=berlin' })
  assert.deepEqual(await memberIds(acme, 'berlin'), [['acme-1']])
  await acme.post('/api/v1/groups', { id: 'static' })
  await acme.post('/api/v1/groups/static/members', { deviceIds: ['dev-a'] }, [400])
  assert.deepEqual(await memberIds(admin, 'berlin'), [['dev-a']])
  assert.deepEqual(await memberIds(admin, 'static'), [['dev-a']])

  const viewer = await admin.post('/api/v1/tokens', { name: 'wall screen', role: 'viewer' })
  const view = apiClient(node.httpUrl, viewer.body.token)
  assert.equal((await view.get('/api/v1/profiles/p1')).body.id, 'p1')
  assert.deepEqual(await memberIds(view, 'static'), [['dev-a']])
  const refused = await Promise.all([
    view.post('/api/v1/profiles', { id: 'p2' }, [403]),
    view.patch('/api/v1/profiles/p1', { name: 'x' }, [403]),
    view.delete('/api/v1/profiles/p1', [403]),
    view.post('/api/v1/groups', { id: 'g2' }, [403]),
    view.post('/api/v1/groups/static/members', { deviceIds: ['dev-a'] }, [403]),
    view.delete('/api/v1/groups/static/members/dev-a', [403]),
    view.delete('/api/v1/groups/static', [403]),
    view.patch('/api/v1/devices/dev-a', { profileId: null }, [403]),
  ])
  assert.ok(refused.every((r) => r.body.code === 'CLOUD_FORBIDDEN'))
  assert.equal((await admin.get('/api/v1/devices/dev-a')).body.profileId, 'p1')
})

test('a device keeps its profile through a PATCH that does not name one', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/profiles', { id: 'p' })
  await deviceWithToken(admin, 'dev')
  const moved = await admin.patch('/api/v1/devices/dev', { profileId: 'p', name: 'renamed' })
  assert.deepEqual([moved.body.profileId, moved.body.name], ['p', 'renamed'])
  const labelled = await admin.patch('/api/v1/devices/dev', { labels: { a: 'b' } })
  assert.equal(labelled.body.profileId, 'p', 'a patch without profileId keeps it')
})
