import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { connect } from '../../mqtt/test/behaviour/helpers.js'
import { startNode } from '../src/index.js'
import { adminOf, apiClient, deviceWithToken, startTestNode } from './node/node-fixture.js'

type Api = ReturnType<typeof apiClient>

const secret = 'k'.repeat(40)

/** Any request, with headers, returning status, body and headers whatever the status. */
async function send(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return {
    status: res.status,
    text,
    body: text === '' ? undefined : JSON.parse(text),
    headers: res.headers,
  }
}

async function loginToken(admin: Api, node: { httpUrl: string }) {
  // The admin client hides its token: make an API token for raw requests.
  const created = await admin.post('/api/v1/tokens', { name: 'rules admin', role: 'admin' })
  const viewer = await admin.post('/api/v1/tokens', { name: 'rules viewer', role: 'viewer' })
  return {
    admin: created.body.token as string,
    viewer: viewer.body.token as string,
    viewerApi: apiClient(node.httpUrl, viewer.body.token as string),
  }
}

const hot = (extra: Record<string, unknown> = {}) => ({
  name: 'hot',
  enabled: true,
  match: { topicKinds: ['telemetry'], metrics: ['temp'] },
  condition: 'payload.temp > 30',
  transform: '{"temp": payload.temp}',
  actions: [{ type: 'alarm', name: 'overheat', severity: 'warning' }],
  ...extra,
})

/** A local HTTP server that counts what it receives. */
async function receiver(t: TestContext) {
  const hits: string[] = []
  const server = createServer((req, res) => {
    hits.push(`${req.method ?? ''} ${req.url ?? ''}`)
    res.end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`, hits }
}

test('rules CRUD over HTTP: versions, ETag and If-Match, 409, enable/disable, delete, audit', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const { admin: token } = await loginToken(admin, node)
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    send(node.httpUrl, token, method, path, body, headers)

  const created = await call('POST', '/api/v1/rules', hot())
  assert.equal(created.status, 201, created.text)
  assert.equal(created.body.version, 1)
  assert.equal(created.body.enabled, true)
  assert.equal(created.body.definition.condition, 'payload.temp > 30')
  assert.equal(created.headers.get('etag'), '"1"')
  assert.equal((await call('POST', '/api/v1/rules', hot())).status, 409)

  const got = await call('GET', '/api/v1/rules/hot')
  assert.equal(got.headers.get('etag'), '"1"')
  const put = await call('PUT', '/api/v1/rules/hot', hot({ condition: 'payload.temp > 40' }), {
    'if-match': '"1"',
  })
  assert.equal(put.status, 200, put.text)
  assert.equal(put.body.version, 2)
  const stale = await call('PUT', '/api/v1/rules/hot', hot(), { 'if-match': '"1"' })
  assert.equal(stale.status, 412)
  assert.equal(stale.body.code, 'CLOUD_PRECONDITION_FAILED')
  const renamed = await call('PUT', '/api/v1/rules/hot', hot({ name: 'cold' }))
  assert.equal(renamed.status, 400)
  assert.equal(renamed.body.details.violations[0].path, '/name')

  const off = await call('POST', '/api/v1/rules/hot/disable')
  assert.equal(off.body.version, 3)
  assert.equal(off.body.enabled, false)
  assert.equal(off.body.definition.enabled, false)
  assert.equal((await call('POST', '/api/v1/rules/hot/enable')).body.version, 4)
  await call('POST', '/api/v1/rules', hot({ name: 'cold', condition: 'payload.temp < 0' }))
  const list = await call('GET', '/api/v1/rules')
  assert.deepEqual(
    list.body.items.map((r: any) => [r.name, r.version]),
    [
      ['cold', 1],
      ['hot', 4],
    ],
  )

  const versions = await call('GET', '/api/v1/rules/hot/versions')
  assert.deepEqual(
    versions.body.items.map((v: any) => [v.version, v.by.startsWith('token:')]),
    [
      [4, true],
      [3, true],
      [2, true],
      [1, true],
    ],
  )
  const v1 = await call('GET', '/api/v1/rules/hot/versions/1')
  assert.equal(v1.body.definition.condition, 'payload.temp > 30')
  assert.equal((await call('GET', '/api/v1/rules/hot/versions/9')).status, 404)

  assert.equal((await call('DELETE', '/api/v1/rules/hot')).status, 204)
  assert.equal((await call('GET', '/api/v1/rules/hot')).status, 404)
  assert.equal((await call('DELETE', '/api/v1/rules/hot')).status, 404)
  assert.equal((await call('GET', '/api/v1/rules/hot/versions')).body.items.length, 4)

  const audit = await call('GET', '/api/v1/audit?target=rule:hot')
  assert.deepEqual(audit.body.items.map((e: any) => [e.action, e.details.version]).reverse(), [
    ['rule.create', 1],
    ['rule.update', 2],
    ['rule.disable', 3],
    ['rule.enable', 4],
    ['rule.delete', 4],
  ])
})

test('definitions that do not compile are 400s whose violations name the field', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const { admin: token } = await loginToken(admin, node)
  const refused = async (body: unknown, code: string, path: string) => {
    const res = await send(node.httpUrl, token, 'POST', '/api/v1/rules', body)
    assert.equal(res.status, 400, res.text)
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8')
    assert.equal(res.body.code, code, res.text)
    assert.equal(res.body.details.violations[0].path, path, res.text)
    return res.body
  }
  const syntax = await refused(
    hot({ condition: 'payload.temp >' }),
    'ANALYTICS_EXPRESSION_INVALID',
    '/condition',
  )
  assert.match(syntax.detail, /line 1, column/)
  await refused(hot({ transform: 'shell("rm -rf /")' }), 'ANALYTICS_EXPRESSION_TYPE', '/transform')
  // Reaching JavaScript objects: the device and operator maps have no such keys, strings no fields.
  await refused(
    hot({ condition: 'device.__proto__ == null' }),
    'ANALYTICS_EXPRESSION_TYPE',
    '/condition',
  )
  await refused(
    hot({ condition: '"a".constructor == null' }),
    'ANALYTICS_EXPRESSION_TYPE',
    '/condition',
  )
  await refused(
    hot({ condition: 'payload.l.map(x, payload.l.map(y, x * y)).size() > 0' }),
    'ANALYTICS_EXPRESSION_LIMIT',
    '/condition',
  )
  await refused(
    hot({
      operators: [
        { name: 'avg', type: 'window', mode: 'sliding', sizeMs: 1000, input: 'payload.t +' },
      ],
    }),
    'ANALYTICS_EXPRESSION_INVALID',
    '/operators/0/input',
  )
  await refused(
    hot({ actions: [{ type: 'alarm', name: 'x', severity: 'apocalyptic' }] }),
    'ANALYTICS_RULE_INVALID',
    '/actions/0/severity',
  )
  await refused(
    hot({ actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/x', secret }] }),
    'CLOUD_DELIVERY_TARGET_INVALID',
    '/actions/0/url',
  )
  await refused(
    hot({ actions: [{ type: 'webhook', url: 'http://169.254.169.254/latest', secret }] }),
    'CLOUD_DELIVERY_TARGET_INVALID',
    '/actions/0/url',
  )
  assert.deepEqual((await send(node.httpUrl, token, 'GET', '/api/v1/rules')).body.items, [])
})

test('secrets are never returned; "********" sent back keeps them; a viewer reads but cannot write', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const { admin: token, viewer, viewerApi } = await loginToken(admin, node)
  const rule = hot({
    actions: [
      {
        type: 'webhook',
        url: 'https://93.184.215.14/strata',
        secret,
        headers: { 'X-Key': 'hdr-secret' },
      },
      {
        type: 'amqp',
        url: 'amqp://bus:amqp-pass@93.184.215.14/prod',
        exchange: 'e',
        routingKey: 'k',
      },
      {
        type: 'nats',
        servers: ['nats://93.184.215.14:4222'],
        subject: 'alerts',
        token: 'nats-token',
      },
    ],
  })
  const created = await send(node.httpUrl, token, 'POST', '/api/v1/rules', rule)
  assert.equal(created.status, 201, created.text)
  const leaks = (text: string) =>
    [secret, 'hdr-secret', 'amqp-pass', 'nats-token'].filter((s) => text.includes(s))
  assert.deepEqual(leaks(created.text), [])
  assert.equal(created.body.definition.actions[0].secret, '********')
  assert.equal(created.body.definition.actions[1].url, 'amqp://bus:********@93.184.215.14/prod')
  const edited = { ...created.body.definition, condition: 'payload.temp > 45' }
  const put = await send(node.httpUrl, token, 'PUT', '/api/v1/rules/hot', edited)
  assert.equal(put.status, 200, put.text)
  assert.equal(put.body.version, 2)
  for (const path of [
    '/api/v1/rules',
    '/api/v1/rules/hot',
    '/api/v1/rules/hot/versions',
    '/api/v1/rules/hot/versions/1',
  ]) {
    assert.deepEqual(leaks((await send(node.httpUrl, viewer, 'GET', path)).text), [], path)
  }
  const dry = await send(node.httpUrl, token, 'POST', '/api/v1/rules/dry-run', {
    rule: edited,
    samples: [{ deviceId: 'd', payload: { temp: 50 } }],
  })
  assert.equal(dry.status, 200, dry.text)
  assert.equal(dry.body.summary.matched, 1)
  assert.deepEqual(leaks(dry.text), [])
  // Moving a hidden secret to another host needs the secret.
  const moved = structuredClone(edited)
  moved.actions[2].servers = ['nats://93.184.215.15:4222']
  const refused = await send(node.httpUrl, token, 'PUT', '/api/v1/rules/hot', moved)
  assert.equal(refused.status, 400)
  assert.equal(refused.body.details.violations[0].path, '/actions/2/token')

  // The viewer reads; every write is 403.
  assert.equal((await viewerApi.get('/api/v1/rules')).body.items.length, 1)
  for (const [method, path, body] of [
    ['POST', '/api/v1/rules', hot({ name: 'v' })],
    ['PUT', '/api/v1/rules/hot', edited],
    ['DELETE', '/api/v1/rules/hot', undefined],
    ['POST', '/api/v1/rules/hot/disable', undefined],
    ['POST', '/api/v1/rules/hot/dead-letters/x/retry', undefined],
  ] as const) {
    const res = await send(node.httpUrl, viewer, method, path, body)
    assert.equal(res.status, 403, `${method} ${path}: ${res.text}`)
    assert.equal(res.body.code, 'CLOUD_FORBIDDEN')
  }
  assert.deepEqual((await viewerApi.get('/api/v1/rules/hot/dead-letters')).body, { items: [] })
  assert.equal((await send(node.httpUrl, token, 'GET', '/api/v1/rules/hot')).body.version, 2)
})

test('dry run: a match, no match, and an evaluation error, with nothing stored', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const { viewerApi } = await loginToken(admin, node)
  const report = await viewerApi.post('/api/v1/rules/dry-run', {
    rule: hot({
      match: { topicKinds: ['telemetry'], devices: 'site=berlin' },
      condition: 'has(payload.temp) && payload.temp > 30',
      transform: '{"temp": payload.temp, "per": int(payload.temp) / int(payload.n)}',
    }),
    context: { labels: { site: 'berlin' } },
    samples: [
      { deviceId: 'p1', ts: 1_000, payload: { temp: 35, n: 7 } },
      { deviceId: 'p1', ts: 2_000, payload: { temp: 20, n: 1 } },
      { deviceId: 'p1', ts: 3_000, payload: { temp: 40, n: 0 } },
      { deviceId: 'p1', ts: 4_000, kind: 'event', payload: { severity: 'info' } },
    ],
  })
  const [match, noMatch, error, other] = report.body.steps
  assert.equal(match.result.matched, true)
  assert.deepEqual(match.result.output, { temp: 35, per: 5 })
  assert.deepEqual(match.result.actions, [{ type: 'alarm', name: 'overheat', severity: 'warning' }])
  assert.equal(noMatch.result.selected, true)
  assert.equal(noMatch.result.matched, false)
  assert.equal(error.result.error.code, 'ANALYTICS_EVALUATION_FAILED')
  assert.equal(other.result.selected, false)
  // A transform that fails is an error, not a match.
  assert.equal(error.result.matched, false)
  assert.deepEqual(report.body.summary, { messages: 4, selected: 3, matched: 1, errors: 1 })
  assert.equal(report.body.health.status, 'failing')
  assert.equal(report.body.health.lastError.code, 'ANALYTICS_EVALUATION_FAILED')
  assert.deepEqual((await viewerApi.get('/api/v1/rules')).body.items, [])
  // A definition that does not compile is a 400 here too.
  const bad = await viewerApi.post(
    '/api/v1/rules/dry-run',
    { rule: hot({ condition: 'payload.temp >>' }), samples: [] },
    [400],
  )
  assert.equal(bad.body.details.violations[0].path, '/condition')
})

test('replay: a device’s recorded telemetry and twin reports through a draft rule, nothing stored or sent', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const { viewerApi } = await loginToken(admin, node)
  const token = await deviceWithToken(admin, 'pump-1')
  await admin.patch('/api/v1/devices/pump-1', { labels: { site: 'berlin' } })
  const client = await connect(t, node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'pump-1',
    username: 'pump-1',
    password: token,
  })
  const base = Date.now() - 60_000
  const temps = [20, 25, 32, 35, 28, 33]
  const records = temps.map((temp, i) => ({ ts: base + i * 1_000, values: { temp, hum: 40 + i } }))
  await client.publishAsync('strata/v1/devices/pump-1/telemetry', JSON.stringify(records), {
    qos: 1,
  })
  await client.publishAsync('strata/v1/devices/pump-1/twin/reported', '{"mode":"eco"}', { qos: 1 })
  const hook = await receiver(t)
  const pointsBefore = await admin.get(
    `/api/v1/telemetry/raw?device=pump-1&from=${String(base - 1)}&to=${String(Date.now() + 1)}`,
  )

  const draft = hot({
    name: 'draft',
    enabled: false,
    match: { devices: 'site=berlin' },
    condition: 'kind == "telemetry" && payload.temp > 30',
    transform: '{"temp": payload.temp, "hum": payload.hum}',
    actions: [
      { type: 'store', prefix: 'replayed' },
      { type: 'republish', topic: 'dash/{deviceId}/hot' },
      { type: 'webhook', url: hook.url, secret },
    ],
  })
  const to = Date.now() + 1_000
  const replay = await viewerApi.post('/api/v1/rules/replay', {
    rule: draft,
    device: 'pump-1',
    from: new Date(base).toISOString(),
    to,
  })
  const body = replay.body
  assert.deepEqual(body.window, { from: base, to, messages: 7, truncated: false })
  const matched = body.steps.filter((s: any) => s.result.matched)
  assert.deepEqual(
    matched.map((s: any) => [s.result.at, s.result.output.temp, s.result.output.hum]),
    [
      [base + 2_000, 32, 42],
      [base + 3_000, 35, 43],
      [base + 5_000, 33, 45],
    ],
  )
  assert.equal(matched[0].result.actions[2].secret, '********')
  const twinStep = body.steps.at(-1)
  assert.equal(twinStep.result.selected, true)
  assert.equal(twinStep.result.matched, false)
  assert.deepEqual(body.summary, { messages: 7, selected: 7, matched: 3, errors: 0 })

  // A saved rule by name, and a window of the first three records, truncated.
  await admin.post('/api/v1/rules', { ...draft, name: 'saved', actions: [] })
  const byName = await viewerApi.post('/api/v1/rules/replay', {
    rule: 'saved',
    device: 'pump-1',
    from: base,
    to,
    limit: 3,
  })
  assert.deepEqual(byName.body.window, { from: base, to, messages: 3, truncated: true })
  assert.equal(byName.body.summary.matched, 1)

  // Nothing was stored, published to the webhook, or saved.
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.deepEqual(hook.hits, [])
  const pointsAfter = await admin.get(
    `/api/v1/telemetry/raw?device=pump-1&from=${String(base - 1)}&to=${String(Date.now() + 1)}`,
  )
  assert.deepEqual(pointsAfter.body, pointsBefore.body)
  assert.ok(!JSON.stringify(pointsAfter.body).includes('replayed'))
  assert.deepEqual(
    (await viewerApi.get('/api/v1/rules')).body.items.map((r: any) => r.name),
    ['saved'],
  )
  // Unknown devices and empty windows are clear errors.
  const missing = await viewerApi.post(
    '/api/v1/rules/replay',
    { rule: draft, device: 'nope', from: base, to },
    [404],
  )
  assert.equal(missing.body.code, 'CLOUD_NOT_FOUND')
  await viewerApi.post(
    '/api/v1/rules/replay',
    { rule: draft, device: 'pump-1', from: to, to: base },
    [400],
  )
})

test('a rule’s dead letters are listed and retried over HTTP', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'strata-rules-'))
  const node = await startNode({
    ...{ dataDir, host: '127.0.0.1', mqttPort: 0, mqttsPort: 0, httpPort: 0 },
    // The receiver is on loopback: allowed for this node only; one attempt, then a dead letter.
    delivery: { allowPrivateNetworks: true, maxAttempts: 1 },
  })
  t.after(async () => {
    await node.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  const admin = await adminOf(node)
  const statuses = [500, 200]
  const hits: string[] = []
  const server = createServer((req, res) => {
    req.resume()
    hits.push(String(req.headers['x-strata-delivery']))
    res.statusCode = statuses.shift() ?? 200
    res.end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`
  await admin.post('/api/v1/rules', hot({ actions: [{ type: 'webhook', url, secret }] }))
  await admin.post('/api/v1/rules', hot({ name: 'other', actions: [] }))
  const token = await deviceWithToken(admin, 'pump-2')
  const client = await connect(t, node.mqttUrl, {
    protocolVersion: 5,
    clientId: 'pump-2',
    username: 'pump-2',
    password: token,
  })
  await client.publishAsync('strata/v1/devices/pump-2/telemetry', '{"temp": 50}', { qos: 1 })
  const deadline = Date.now() + 10_000
  let letters: any[] = []
  while (letters.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    letters = (await admin.get('/api/v1/rules/hot/dead-letters')).body.items
  }
  assert.equal(letters.length, 1)
  assert.equal(letters[0].message.rule, 'hot')
  assert.equal(letters[0].lastError.status, 500)
  assert.ok(!JSON.stringify(letters).includes(secret))
  assert.deepEqual((await admin.get('/api/v1/rules/other/dead-letters')).body.items, [])
  await admin.post(
    '/api/v1/rules/other/dead-letters/' + String(letters[0].id) + '/retry',
    {},
    [404],
  )
  await admin.post(`/api/v1/rules/hot/dead-letters/${String(letters[0].id)}/retry`, {}, [204])
  while (hits.length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  assert.deepEqual(hits, [letters[0].id, letters[0].id])
  assert.deepEqual((await admin.get('/api/v1/rules/hot/dead-letters')).body.items, [])
})
