import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test, type TestContext } from 'node:test'
import WebSocket from 'ws'
import { sleep } from '../../../mqtt/test/behaviour/helpers.js'
import { adminOf, apiClient, startTestNode, otherTenantLogin } from './node-fixture.js'

type Api = ReturnType<typeof apiClient>
type Frame = Record<string, any>

async function tokenClient(node: { httpUrl: string }, admin: Api, role: string) {
  const created = await admin.post('/api/v1/tokens', { name: `alarms ${role}`, role })
  return {
    api: apiClient(node.httpUrl, created.body.token as string),
    token: created.body.token as string,
    actor: `token:${String(created.body.apiToken.id)}`,
  }
}

/** A live-feed connection that records every frame. */
async function liveFeed(t: TestContext, node: { httpUrl: string }, token: string) {
  const ws = new WebSocket(`${node.httpUrl.replace(/^http/, 'ws')}/api/v1/live`, {
    headers: { authorization: `Bearer ${token}` },
  })
  t.after(() => ws.terminate())
  const frames: Frame[] = []
  ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString()) as Frame))
  await once(ws, 'open')
  const frame = async (match: (f: Frame) => boolean, what: string): Promise<Frame> => {
    const deadline = Date.now() + 4000
    for (;;) {
      const found = frames.find(match)
      if (found !== undefined) return found
      if (Date.now() > deadline)
        throw new Error(`no frame: ${what}; got ${JSON.stringify(frames).slice(0, 1500)}`)
      await sleep(10)
    }
  }
  await frame((f) => f.type === 'ready', 'ready')
  return { ws, frames, frame }
}

test('alarms over HTTP: raise, dedupe, list with filters, summary, acknowledge, clear, comment, history', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  for (const id of ['pump-1', 'pump-2']) await admin.post('/api/v1/devices', { id })
  const operator = await tokenClient(node, admin, 'operator')

  const created = await operator.api.post('/api/v1/alarms', {
    deviceId: 'pump-1',
    type: 'overheat',
    severity: 'warning',
    message: 'temp 81',
  })
  assert.equal(created.status, 201)
  const alarm = created.body
  assert.match(alarm.id, /^a-/)
  assert.deepEqual(
    {
      ...alarm,
      id: undefined,
      raisedAt: typeof alarm.raisedAt,
      lastRaisedAt: typeof alarm.lastRaisedAt,
    },
    {
      id: undefined,
      tenantId: 'default',
      deviceId: 'pump-1',
      type: 'overheat',
      severity: 'warning',
      status: 'active',
      message: 'temp 81',
      details: null,
      source: { user: operator.actor },
      raisedAt: 'number',
      lastRaisedAt: 'number',
      count: 1,
      acknowledgedAt: null,
      acknowledgedBy: null,
      clearedAt: null,
      clearedBy: null,
      comments: 0,
    },
  )
  const again = await operator.api.post('/api/v1/alarms', {
    deviceId: 'pump-1',
    type: 'overheat',
    severity: 'critical',
  })
  assert.equal(again.status, 200, 'the open alarm of that device and type, raised again')
  assert.deepEqual(
    [again.body.id, again.body.count, again.body.severity],
    [alarm.id, 2, 'critical'],
  )
  await admin.post('/api/v1/alarms', { deviceId: 'pump-2', type: 'leak', severity: 'error' })
  await admin.post('/api/v1/alarms', { deviceId: 'pump-2', type: 'door', severity: 'info' })

  const list = await admin.get('/api/v1/alarms?limit=2')
  assert.deepEqual(Object.keys(list.body).sort(), ['items', 'nextCursor'])
  assert.deepEqual(
    list.body.items.map((a: Frame) => a.type),
    ['door', 'leak'],
  )
  const rest = await admin.get(`/api/v1/alarms?limit=2&cursor=${String(list.body.nextCursor)}`)
  assert.deepEqual(
    [rest.body.items.map((a: Frame) => a.type), rest.body.nextCursor],
    [['overheat'], null],
  )
  const typesOf = async (query: string) =>
    (await admin.get(`/api/v1/alarms?${query}`)).body.items.map((a: Frame) => a.type)
  assert.deepEqual(await typesOf('severity=critical,error'), ['leak', 'overheat'])
  assert.deepEqual(await typesOf('severity=info'), ['door'])
  assert.deepEqual(await typesOf('device=pump-1'), ['overheat'])
  assert.deepEqual(await typesOf('device=pump-1,pump-2&type=leak'), ['leak'])
  assert.deepEqual(await typesOf('q=OVER'), ['overheat'])
  assert.deepEqual(await typesOf('status=cleared'), [])
  assert.deepEqual(await typesOf(`from=${String(Date.now() + 60_000)}`), [])
  assert.deepEqual(await typesOf('from=2020-01-01T00:00:00Z&status=open'), [
    'door',
    'leak',
    'overheat',
  ])
  assert.equal((await admin.get('/api/v1/alarms?severity=fatal', [400])).body.code, 'CLOUD_INVALID')
  assert.equal((await admin.get('/api/v1/alarms?status=gone', [400])).body.code, 'CLOUD_INVALID')

  const acked = await operator.api.post(`/api/v1/alarms/${String(alarm.id)}/acknowledge`, {
    comment: 'on my way',
  })
  assert.deepEqual([acked.body.status, acked.body.acknowledgedBy], ['acknowledged', operator.actor])
  const twice = await operator.api.post(`/api/v1/alarms/${String(alarm.id)}/acknowledge`, {}, [409])
  assert.equal(twice.body.code, 'CLOUD_ALARM_STATE')
  assert.equal(twice.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  assert.deepEqual((await admin.get('/api/v1/alarms/summary')).body, {
    open: 3,
    bySeverity: { info: 1, warning: 0, error: 1, critical: 1 },
    byStatus: { active: 2, acknowledged: 1 },
  })

  const note = await operator.api.post(`/api/v1/alarms/${String(alarm.id)}/comments`, {
    text: 'fan replaced',
  })
  assert.equal(note.status, 201)
  assert.deepEqual([note.body.text, note.body.by], ['fan replaced', operator.actor])
  // The body of a clear is optional.
  const cleared = await admin.post(`/api/v1/alarms/${String(alarm.id)}/clear`)
  assert.equal(cleared.body.status, 'cleared')
  assert.match(cleared.body.clearedBy, /^user:/)
  await admin.post(`/api/v1/alarms/${String(alarm.id)}/clear`, {}, [409])
  const one = await admin.get(`/api/v1/alarms/${String(alarm.id)}`)
  assert.deepEqual([one.body.status, one.body.comments, one.body.count], ['cleared', 2, 2])
  const comments = await admin.get(`/api/v1/alarms/${String(alarm.id)}/comments`)
  assert.deepEqual(
    comments.body.items.map((c: Frame) => c.text),
    ['on my way', 'fan replaced'],
  )

  const history = await admin.get(`/api/v1/alarms/${String(alarm.id)}/history`)
  assert.deepEqual(
    history.body.items
      .map((e: Frame) => [e.kind, e.by === operator.actor ? 'operator' : 'admin'])
      .reverse(),
    [
      ['raised', 'operator'],
      ['escalated', 'operator'],
      ['acknowledged', 'operator'],
      ['commented', 'operator'],
      ['cleared', 'admin'],
    ],
  )
  assert.deepEqual(history.body.items.at(-2).details, { from: 'warning', to: 'critical', count: 2 })

  // The same device and type opens a new alarm once the old one is cleared.
  const fresh = await operator.api.post('/api/v1/alarms', {
    deviceId: 'pump-1',
    type: 'overheat',
    severity: 'warning',
  })
  assert.equal(fresh.status, 201)
  assert.notEqual(fresh.body.id, alarm.id)

  // Audited, with who did it.
  const audit = await admin.get('/api/v1/audit?limit=100')
  const actions = audit.body.items.map((e: Frame) => e.action)
  for (const action of ['alarm.raise', 'alarm.acknowledge', 'alarm.comment', 'alarm.clear'])
    assert.ok(actions.includes(action), action)

  // OpenAPI lists the routes under the alarms tag.
  const openapi = (await admin.get('/api/v1/openapi.json')).body
  assert.deepEqual(openapi.paths['/api/v1/alarms/{id}/acknowledge'].post.tags, ['alarms'])
})

test('a viewer reads alarms but may not change them; another tenant gets 404s', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/devices', { id: 'pump-1' })
  const { body: alarm } = await admin.post('/api/v1/alarms', {
    deviceId: 'pump-1',
    type: 'overheat',
    severity: 'critical',
  })
  const viewer = await tokenClient(node, admin, 'viewer')
  assert.equal((await viewer.api.get('/api/v1/alarms')).body.items.length, 1)
  assert.equal((await viewer.api.get(`/api/v1/alarms/${String(alarm.id)}`)).body.id, alarm.id)
  await viewer.api.get(`/api/v1/alarms/${String(alarm.id)}/history`)
  await viewer.api.get('/api/v1/alarms/summary')
  const denied = await viewer.api.post(`/api/v1/alarms/${String(alarm.id)}/acknowledge`, {}, [403])
  assert.equal(denied.body.code, 'CLOUD_FORBIDDEN')
  await viewer.api.post(`/api/v1/alarms/${String(alarm.id)}/clear`, {}, [403])
  await viewer.api.post(`/api/v1/alarms/${String(alarm.id)}/comments`, { text: 'hi' }, [403])
  await viewer.api.post(
    '/api/v1/alarms',
    { deviceId: 'pump-1', type: 'x', severity: 'info' },
    [403],
  )
  const provisioner = await tokenClient(node, admin, 'provisioner')
  await provisioner.api.get('/api/v1/alarms', [403])

  const login = await otherTenantLogin(node, admin)
  const acme = apiClient(node.httpUrl, login.body.token as string)
  assert.deepEqual((await acme.get('/api/v1/alarms')).body.items, [])
  assert.equal((await acme.get('/api/v1/alarms/summary')).body.open, 0)
  const id = String(alarm.id)
  assert.equal((await acme.get(`/api/v1/alarms/${id}`, [404])).body.code, 'CLOUD_NOT_FOUND')
  await acme.get(`/api/v1/alarms/${id}/history`, [404])
  await acme.post(`/api/v1/alarms/${id}/acknowledge`, {}, [404])
  await acme.post(`/api/v1/alarms/${id}/clear`, {}, [404])
  await acme.post(`/api/v1/alarms/${id}/comments`, { text: 'mine' }, [404])
  await acme.post('/api/v1/alarms', { deviceId: 'pump-1', type: 'x', severity: 'info' }, [404])
  assert.equal((await admin.get(`/api/v1/alarms/${id}`)).body.status, 'active')
})

test('the live feed sends alarm events of the subscriber’s tenant and devices over a WebSocket', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  for (const id of ['pump-1', 'pump-2']) await admin.post('/api/v1/devices', { id })
  const viewer = await tokenClient(node, admin, 'viewer')
  const feed = await liveFeed(t, node, viewer.token)
  feed.ws.send(
    JSON.stringify({ type: 'subscribe', id: 'a1', topics: ['alarms'], devices: ['pump-1'] }),
  )
  feed.ws.send(JSON.stringify({ type: 'subscribe', id: 'all', topics: ['alarms'] }))
  await feed.frame((f) => f.type === 'subscribed' && f.id === 'all', 'subscribed all')

  const { body: alarm } = await admin.post('/api/v1/alarms', {
    deviceId: 'pump-1',
    type: 'overheat',
    severity: 'error',
    message: 'temp 90',
  })
  await admin.post('/api/v1/alarms', { deviceId: 'pump-2', type: 'leak', severity: 'info' })
  const raised = await feed.frame((f) => f.subscription === 'a1', 'alarm on a1')
  assert.equal(raised.type, 'alarm')
  assert.equal(raised.deviceId, 'pump-1')
  assert.deepEqual(
    [raised.event.kind, raised.event.details],
    ['raised', { severity: 'error', message: 'temp 90' }],
  )
  const { tenantId: _, ...expected } = alarm
  assert.deepEqual(raised.alarm, expected, 'the alarm as the API shows it, without its tenant')
  await feed.frame((f) => f.subscription === 'all' && f.deviceId === 'pump-2', 'pump-2 on all')

  await admin.post(`/api/v1/alarms/${String(alarm.id)}/acknowledge`, { comment: 'seen' })
  await admin.post(`/api/v1/alarms/${String(alarm.id)}/clear`)
  const cleared = await feed.frame(
    (f) => f.subscription === 'a1' && f.event?.kind === 'cleared',
    'cleared on a1',
  )
  assert.equal(cleared.alarm.status, 'cleared')
  assert.deepEqual(
    feed.frames.filter((f) => f.subscription === 'a1').map((f) => f.event.kind),
    ['raised', 'acknowledged', 'cleared'],
    'a1 sees only pump-1',
  )

  // Another tenant's subscriber hears nothing of these.
  const login = await otherTenantLogin(node, admin)
  const acmeFeed = await liveFeed(t, node, login.body.token as string)
  acmeFeed.ws.send(JSON.stringify({ type: 'subscribe', id: 'x', topics: ['alarms'] }))
  await acmeFeed.frame((f) => f.type === 'subscribed', 'acme subscribed')
  await admin.post('/api/v1/alarms', { deviceId: 'pump-1', type: 'overheat', severity: 'critical' })
  await feed.frame(
    (f) => f.subscription === 'a1' && f.alarm?.severity === 'critical',
    'the new alarm on a1',
  )
  await sleep(100)
  assert.deepEqual(
    acmeFeed.frames.filter((f) => f.type === 'alarm'),
    [],
  )

  // A provisioner may not subscribe to alarms.
  const provisioner = await tokenClient(node, admin, 'provisioner')
  const pfeed = await liveFeed(t, node, provisioner.token)
  pfeed.ws.send(JSON.stringify({ type: 'subscribe', id: 'p', topics: ['alarms'] }))
  const refused = await pfeed.frame((f) => f.type === 'error', 'refusal')
  assert.deepEqual([refused.code, refused.id], ['CLOUD_FORBIDDEN', 'p'])
})
