import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, sleep } from '../../../mqtt/test/behaviour/helpers.js'
import {
  adminOf,
  apiClient,
  deviceWithToken,
  otherTenantLogin,
  startTestNode,
} from './node-fixture.js'

type Client = ReturnType<typeof apiClient>
interface Row {
  id: string
  name: string
  createdAt: number
  state: string
}

/** Every page of the device list under one sort, `limit` at a time, as ids. */
async function pagedIds(api: Client, sort: string, limit: number): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const query: string = `sort=${sort}&limit=${String(limit)}${cursor === null ? '' : `&cursor=${cursor}`}`
    const page = (await api.get(`/api/v1/devices?${query}`)).body
    ids.push(...(page.items as Row[]).map((d) => d.id))
    cursor = page.nextCursor as string | null
    pages++
  } while (cursor !== null && pages < 100)
  return ids
}

function expectedOrder(rows: Row[], sort: string): string[] {
  const descending = sort.startsWith('-')
  const key = (descending ? sort.slice(1) : sort) as keyof Row
  const cmp = (a: Row, b: Row) => {
    const va = a[key]
    const vb = b[key]
    const byKey = va < vb ? -1 : va > vb ? 1 : 0
    return byKey !== 0 ? byKey : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  }
  return [...rows].sort((a, b) => (descending ? -cmp(a, b) : cmp(a, b))).map((r) => r.id)
}

test('the device list sorts on the server and its cursor pages stay correct under every sort', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  for (let i = 0; i < 11; i++) {
    const id = `dev-${String(i).padStart(2, '0')}`
    // Names run against ids, and two share a name, so ties are broken by id.
    await admin.post('/api/v1/devices', { id, name: i < 2 ? 'same' : `n-${String(20 - i)}` })
    if (i % 4 === 1) await admin.post(`/api/v1/devices/${id}/disable`, {})
    if (i === 6) await admin.post(`/api/v1/devices/${id}/revoke`, {})
  }
  const all = (await admin.get('/api/v1/devices?limit=1000')).body.items as Row[]
  assert.equal(all.length, 11)
  for (const sort of ['id', '-id', 'name', '-name', 'createdAt', '-createdAt', 'state', '-state']) {
    const expected = expectedOrder(all, sort)
    assert.deepEqual(await pagedIds(admin, sort, 3), expected, `sort=${sort}`)
    assert.deepEqual(await pagedIds(admin, sort, 1), expected, `sort=${sort} one a page`)
  }
  assert.deepEqual(
    (await pagedIds(admin, '-id', 4)).slice(0, 2),
    ['dev-10', 'dev-09'],
    'descending id',
  )
  // A cursor keeps its sort: under another one it is refused, not misread.
  const first = (await admin.get('/api/v1/devices?sort=name&limit=2')).body
  const refused = await admin.get(
    `/api/v1/devices?sort=-createdAt&cursor=${first.nextCursor}`,
    [400],
  )
  assert.equal(refused.body.code, 'CLOUD_INVALID')
  await admin.get('/api/v1/devices?sort=lastSeen', [400])
  // Filters combine with a sort.
  const disabled = (await admin.get('/api/v1/devices?state=disabled&sort=-name')).body
    .items as Row[]
  assert.deepEqual(
    disabled.map((d) => d.id),
    expectedOrder(
      all.filter((d) => d.state === 'disabled'),
      '-name',
    ),
  )
})

test('the fleet summary counts devices by state and presence, and only the tenant’s own', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'pump-0')
  for (let i = 1; i < 6; i++) await admin.post('/api/v1/devices', { id: `pump-${String(i)}` })
  await admin.post('/api/v1/devices/pump-1/disable', {})
  await admin.post('/api/v1/devices/pump-2/disable', {})
  await admin.post('/api/v1/devices/pump-3/revoke', {})

  const before = (await admin.get('/api/v1/devices/summary')).body
  assert.deepEqual(before, {
    total: 6,
    byState: { pending: 0, provisioned: 3, active: 0, disabled: 2, revoked: 1 },
    byPresence: { online: 0, sleeping: 0, offline: 6 },
  })

  const client = await connect(t, node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'pump-0',
    username: 'pump-0',
    password: token,
  })
  const online = (await admin.get('/api/v1/devices/summary')).body
  assert.equal(online.byPresence.online, 1)
  assert.equal(online.byPresence.offline, 5)
  assert.equal(online.byState.active, 1)
  assert.equal(online.byState.provisioned, 2)

  const other = await otherTenantLogin(node, admin)
  const acme = apiClient(node.httpUrl, other.body.token as string)
  assert.deepEqual((await acme.get('/api/v1/devices/summary')).body.total, 0)
  await acme.get('/api/v1/devices/pump-0/presence-history', [404])
  await client.endAsync()
})

test('a device’s connection history lists its connects and disconnects, newest first, paged', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'meter-1')
  assert.deepEqual((await admin.get('/api/v1/devices/meter-1/presence-history')).body, {
    items: [],
    nextCursor: null,
  })
  for (let round = 0; round < 3; round++) {
    const client = await connect(t, node.mqttUrl, {
      protocolVersion: 5,
      clientId: 'meter-1',
      username: 'meter-1',
      password: token,
    })
    await client.endAsync()
    // The broker tells presence of the disconnect after the socket closes.
    for (let i = 0; i < 100; i++) {
      const d = (await admin.get('/api/v1/devices/meter-1')).body
      if (d.presence.status === 'offline' && d.presence.since > 0) break
      await sleep(10)
    }
  }
  const page1 = (await admin.get('/api/v1/devices/meter-1/presence-history?limit=4')).body
  assert.deepEqual(
    page1.items.map((e: { status: string; reason: string }) => `${e.status}:${e.reason}`),
    ['offline:disconnected', 'online:connected', 'offline:disconnected', 'online:connected'],
  )
  assert.ok(page1.nextCursor !== null)
  const page2 = (
    await admin.get(`/api/v1/devices/meter-1/presence-history?limit=4&cursor=${page1.nextCursor}`)
  ).body
  assert.deepEqual(
    page2.items.map((e: { status: string }) => e.status),
    ['offline', 'online'],
  )
  assert.equal(page2.nextCursor, null)
  const ats = [...page1.items, ...page2.items].map((e: { at: number }) => e.at)
  assert.deepEqual(
    ats,
    [...ats].sort((a, b) => b - a),
  )
  await admin.get('/api/v1/devices/no-such/presence-history', [404])
})
