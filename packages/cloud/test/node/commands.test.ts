import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { MqttClient } from 'mqtt'
import { connect, inboxOf, sleep, type Received } from '../../../mqtt/test/behaviour/helpers.js'
import { adminOf, apiClient, deviceWithToken, startTestNode } from './node-fixture.js'

type Client = ReturnType<typeof apiClient>

const base = (id: string) => `strata/v1/devices/${id}`

/** POST a command or a bulk job: 202 Accepted. */
const send = (api: Client, path: string, body: unknown) => api.post(path, body, [202])

/** A device with a persistent session (MQTT 5: clean start false and an hour of expiry). */
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

/** Command requests the device got, once there are at least `n`. */
async function requests(client: MqttClient, n: number, timeoutMs = 3000): Promise<Received[]> {
  const inbox = inboxOf(client)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const got = inbox.messages.filter((m) => m.topic.includes('/commands/request/'))
    if (got.length >= n) return got
    if (Date.now() > deadline)
      throw new Error(`waited for ${String(n)} command requests, got ${String(got.length)}`)
    await sleep(10)
  }
}

async function pubackCode(
  client: MqttClient,
  topic: string,
  payload: string,
  properties?: { correlationData?: Buffer },
): Promise<number> {
  try {
    await client.publishAsync(topic, payload, {
      qos: 1,
      ...(properties === undefined ? {} : { properties }),
    })
    return 0
  } catch (err) {
    return (err as { code?: number }).code ?? -1
  }
}

/** Polls a command until `check` holds. */
async function commandUntil(api: Client, id: string, check: (c: any) => boolean) {
  const deadline = Date.now() + 3000
  for (;;) {
    const command = (await api.get(`/api/v1/commands/${id}`)).body
    if (check(command)) return command
    if (Date.now() > deadline) throw new Error(`command ${id}: ${JSON.stringify(command)}`)
    await sleep(20)
  }
}

test('a command to an offline device is delivered when it connects; MQTT 5 answers on the response topic', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'pump-7')
  const first = await device(t, node, 'pump-7', token)
  await first.subscribeAsync(`${base('pump-7')}/commands/request/+`, { qos: 1 })
  await first.endAsync()

  const sent = await send(admin, '/api/v1/devices/pump-7/commands', {
    name: 'reboot',
    params: { delayS: 5 },
  })
  assert.equal(sent.status, 202)
  assert.deepEqual(
    [sent.body.status, sent.body.name, sent.body.params],
    ['queued', 'reboot', { delayS: 5 }],
  )
  const id = sent.body.id as string
  await commandUntil(admin, id, (c) => c.sentAt !== null)

  const woke = await device(t, node, 'pump-7', token)
  // Subscribing again, as many clients do on every connect, does not send it twice: the session
  // already had the subscription, and the broker delivered what it kept.
  await woke.subscribeAsync(`${base('pump-7')}/commands/request/+`, { qos: 1 })
  await sleep(200)
  assert.equal((await requests(woke, 1)).length, 1)
  const [request] = await requests(woke, 1)
  assert.ok(request)
  assert.equal(request.topic, `${base('pump-7')}/commands/request/reboot`)
  const body = JSON.parse(request.payload)
  assert.deepEqual(body, { id, params: { delayS: 5 }, expiresAt: sent.body.expiresAt })
  const props = request.packet.properties ?? {}
  assert.equal(props.responseTopic, `${base('pump-7')}/commands/response/${id}`)
  assert.equal(Buffer.from(props.correlationData ?? []).toString(), id)

  const answer = (payload: unknown) =>
    pubackCode(woke, props.responseTopic ?? '', JSON.stringify(payload), {
      correlationData: Buffer.from(props.correlationData ?? []),
    })
  assert.equal(await answer({ status: 'accepted' }), 0)
  const delivered = (await admin.get(`/api/v1/commands/${id}`)).body
  assert.equal(delivered.status, 'delivered')
  assert.equal(delivered.deadlineAt, (delivered.deliveredAt as number) + 300_000)
  assert.equal(await answer({ status: 'succeeded', result: { uptimeS: 12 } }), 0)
  const done = (await admin.get(`/api/v1/commands/${id}`)).body
  assert.deepEqual([done.status, done.result], ['succeeded', { uptimeS: 12 }])
  assert.equal(await answer({ status: 'failed' }), 0, 'a repeat after the end is acknowledged')
  assert.equal((await admin.get(`/api/v1/commands/${id}`)).body.status, 'succeeded')

  const listed = await admin.get('/api/v1/devices/pump-7/commands')
  assert.deepEqual(
    listed.body.items.map((c: any) => c.id),
    [id],
  )
  const audit = await admin.get('/api/v1/audit?action=command.send')
  assert.deepEqual(
    audit.body.items.map((e: any) => e.details.commandId),
    [id],
  )
  const bad = await admin.post('/api/v1/devices/pump-7/commands', { name: '_x' }, [400])
  assert.equal(bad.body.code, 'CLOUD_INVALID')
  await admin.post('/api/v1/devices/nope/commands', { name: 'x' }, [404])
})

test('an MQTT 3.1.1 device answers on commands/response/{id}; a new session gets queued commands again', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'old-1')
  // Queued before the device ever had a session: the broker had nowhere to keep it.
  const sent = await send(admin, '/api/v1/devices/old-1/commands', { name: 'ping' })
  await commandUntil(admin, sent.body.id, (c) => c.sentAt !== null)
  const client = await device(t, node, 'old-1', token, { protocolVersion: 4, clean: true })
  await client.subscribeAsync(`${base('old-1')}/commands/request/ping`, { qos: 1 })
  const [request] = await requests(client, 1)
  const id = JSON.parse(request?.payload ?? '{}').id as string
  assert.equal(id, sent.body.id)
  const topic = `${base('old-1')}/commands/response/${id}`
  await client.publishAsync(
    topic,
    JSON.stringify({ status: 'failed', error: { code: 'BUSY', message: 'try later' } }),
    { qos: 1 },
  )
  const failed = await commandUntil(admin, id, (c) => c.status !== 'queued')
  assert.deepEqual(
    [failed.status, failed.error],
    ['failed', { code: 'BUSY', message: 'try later' }],
  )
  assert.ok(failed.deliveredAt !== null && failed.finishedAt !== null)
})

test('a command expires unanswered; a late answer is kept without changing it', async (t) => {
  let offset = 0
  const node = await startTestNode(t, { clock: () => Date.now() + offset })
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'sleepy')
  const soon = await send(admin, '/api/v1/devices/sleepy/commands', {
    name: 'read',
    expiresInS: 60,
  })
  const accepted = await send(admin, '/api/v1/devices/sleepy/commands', {
    name: 'update',
    timeoutS: 30,
    expiresInS: 3600,
  })
  const client = await device(t, node, 'sleepy', token)
  await client.subscribeAsync(`${base('sleepy')}/commands/request/+`, { qos: 1 })
  await requests(client, 2)
  const reply = (id: string, payload: unknown) =>
    pubackCode(client, `${base('sleepy')}/commands/response/${id}`, JSON.stringify(payload))
  assert.equal(await reply(accepted.body.id, { status: 'accepted' }), 0)

  offset += 61_000
  const expired = await commandUntil(admin, soon.body.id, (c) => c.status === 'expired')
  assert.match(expired.statusReason, /did not answer before expiresAt/)
  assert.equal((await admin.get(`/api/v1/commands/${accepted.body.id}`)).body.status, 'expired')
  const late = { status: 'succeeded', result: { v: 1 } }
  assert.equal(await reply(soon.body.id, late), 0)
  const kept = (await admin.get(`/api/v1/commands/${soon.body.id}`)).body
  assert.equal(kept.status, 'expired')
  assert.deepEqual({ ...kept.lateResponse, at: 0 }, { ...late, at: 0 })
  const timedOut = (await admin.get(`/api/v1/commands/${accepted.body.id}`)).body
  assert.match(timedOut.statusReason, /no final answer within timeoutS/)
})

test('an answer for an unknown command or another device’s is refused; a viewer cannot send', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await deviceWithToken(admin, 'dev-a')
  const tokenB = await deviceWithToken(admin, 'dev-b')
  const sent = await send(admin, '/api/v1/devices/dev-a/commands', { name: 'open' })
  const b = await device(t, node, 'dev-b', tokenB)
  await b.subscribeAsync(`${base('dev-b')}/errors`, { qos: 1 })
  const ok = JSON.stringify({ status: 'succeeded' })
  assert.equal(await pubackCode(b, `${base('dev-b')}/commands/response/${sent.body.id}`, ok), 0x83)
  assert.equal(await pubackCode(b, `${base('dev-b')}/commands/response/c-none`, ok), 0x83)
  assert.equal(await pubackCode(b, `${base('dev-a')}/commands/response/${sent.body.id}`, ok), 0x87)
  assert.equal(
    await pubackCode(b, `${base('dev-b')}/commands/response/x`, ok, {
      correlationData: Buffer.from('y'),
    }),
    0x99,
  )
  assert.equal(await pubackCode(b, `${base('dev-b')}/commands/response/x`, '{"status": 1}'), 0x99)
  const errors = inboxOf(b)
  await errors.waitFor(4)
  assert.equal(JSON.parse(errors.messages[0]?.payload ?? '{}').error.code, 'CLOUD_COMMAND_UNKNOWN')
  assert.equal((await admin.get(`/api/v1/commands/${sent.body.id}`)).body.status, 'queued')

  const viewer = await admin.post('/api/v1/tokens', { name: 'wall', role: 'viewer' })
  const view = apiClient(node.httpUrl, viewer.body.token)
  const refused = await view.post('/api/v1/devices/dev-a/commands', { name: 'open' }, [403])
  assert.equal(refused.body.code, 'CLOUD_FORBIDDEN')
  await view.post('/api/v1/groups/g/commands', { name: 'open' }, [403])
  assert.equal((await view.get(`/api/v1/commands/${sent.body.id}`)).body.id, sent.body.id)
  assert.equal((await view.get('/api/v1/devices/dev-a/commands')).body.items.length, 1)
  const operator = await admin.post('/api/v1/tokens', { name: 'ops', role: 'operator' })
  const ops = apiClient(node.httpUrl, operator.body.token)
  assert.equal((await send(ops, '/api/v1/devices/dev-a/commands', { name: 'open' })).status, 202)
})

test('a bulk command to a group is a job whose progress follows the answers', async (t) => {
  let offset = 0
  const node = await startTestNode(t, { clock: () => Date.now() + offset })
  const admin = await adminOf(node)
  const ids = ['g-1', 'g-2', 'g-3', 'g-4']
  const clients = new Map<string, MqttClient>()
  for (const id of ids) {
    await admin.post('/api/v1/devices', { id, labels: { site: 'berlin' } })
    const token = (await admin.post(`/api/v1/devices/${id}/tokens`, {})).body.token as string
    if (id === 'g-4') continue // offline: it will expire
    const client = await device(t, node, id, token)
    await client.subscribeAsync(`${base(id)}/commands/request/+`, { qos: 1 })
    clients.set(id, client)
  }
  await admin.post('/api/v1/groups', { id: 'berlin', query: 'site=berlin' })
  const started = await send(admin, '/api/v1/groups/berlin/commands', {
    name: 'sync',
    params: { full: true },
    expiresInS: 120,
  })
  assert.equal(started.status, 202)
  const jobId = started.body.id as string
  assert.deepEqual(
    [started.body.total, started.body.queued, started.body.succeeded, started.body.done],
    [4, 4, 0, false],
  )
  const outcomes: Record<string, unknown> = {
    'g-1': { status: 'succeeded' },
    'g-2': { status: 'failed', error: { code: 'E', message: 'no' } },
    'g-3': { status: 'accepted' },
  }
  for (const [id, client] of clients) {
    const [request] = await requests(client, 1)
    const cmd = JSON.parse(request?.payload ?? '{}')
    assert.deepEqual(cmd.params, { full: true })
    await client.publishAsync(
      `${base(id)}/commands/response/${cmd.id as string}`,
      JSON.stringify(outcomes[id]),
      { qos: 1 },
    )
  }
  const job = (await admin.get(`/api/v1/command-jobs/${jobId}`)).body
  assert.deepEqual(
    [job.total, job.queued, job.delivered, job.succeeded, job.failed, job.expired, job.done],
    [4, 1, 1, 1, 1, 0, false],
  )
  offset += 121_000
  const later = (await admin.get(`/api/v1/command-jobs/${jobId}`)).body
  assert.deepEqual([later.queued, later.delivered, later.expired, later.done], [0, 1, 1, false])
  offset += 300_000
  const end = (await admin.get(`/api/v1/command-jobs/${jobId}`)).body
  assert.deepEqual([end.expired, end.done], [2, true])
  const audit = await admin.get('/api/v1/audit?limit=100')
  const actions = audit.body.items.map((e: any) => e.action)
  assert.equal(actions.filter((a: string) => a === 'command.send').length, 4)
  assert.ok(actions.includes('command.job.start'))
  await admin.get('/api/v1/command-jobs/j-nope', [404])
  const openapi = (await admin.get('/api/v1/openapi.json')).body
  for (const path of ['/api/v1/groups/{id}/commands', '/api/v1/command-jobs/{id}'])
    assert.ok(openapi.paths[path], path)
  await admin.post('/api/v1/groups/nope/commands', { name: 'sync' }, [404])
})
