import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import WebSocket from 'ws'
import { connect, sleep, within } from '../../../mqtt/test/behaviour/helpers.js'
import { startNode, type NodeOptions } from '../../src/index.js'
import {
  adminOf,
  apiClient,
  deviceWithToken,
  mosquittoPub,
  otherTenantLogin,
} from './node-fixture.js'

type Api = ReturnType<typeof apiClient>
type Frame = Record<string, any>

/** A node on ephemeral ports with live-feed options, closed and deleted after the test. */
async function startLiveNode(t: TestContext, live: NodeOptions['live'] = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'strata-live-'))
  const node = await startNode({
    dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    mqttsPort: 0,
    httpPort: 0,
    live,
  })
  t.after(async () => {
    await node.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  return node
}

/** A live-feed client that records every frame and how the socket closed. */
class LiveClient {
  readonly frames: Frame[] = []
  readonly #closed: Promise<{ code: number; reason: string }>
  readonly ws: WebSocket

  constructor(ws: WebSocket) {
    this.ws = ws
    ws.on('message', (data: Buffer) => this.frames.push(JSON.parse(data.toString()) as Frame))
    this.#closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    })
    ws.on('error', () => undefined)
  }

  /** How the socket closed, waiting for it up to 5 s. */
  get closed(): Promise<{ code: number; reason: string }> {
    return within(this.#closed, 5000, 'the live socket to close')
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** The first frame that satisfies `match`, waiting for it up to `ms`. */
  async frame(match: (f: Frame) => boolean, what: string, ms = 4000): Promise<Frame> {
    const deadline = Date.now() + ms
    for (;;) {
      const found = this.frames.find(match)
      if (found !== undefined) return found
      if (Date.now() > deadline)
        throw new Error(`no frame: ${what}; got ${JSON.stringify(this.frames).slice(0, 1500)}`)
      await sleep(10)
    }
  }

  events(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type)
  }

  /** Subscribes and waits for the `subscribed` answer. */
  async subscribe(frame: Frame): Promise<void> {
    this.send({ type: 'subscribe', ...frame })
    await this.frame((f) => f.type === 'subscribed' && f.id === frame.id, `subscribed ${frame.id}`)
  }
}

function liveUrl(node: { httpUrl: string }, query = ''): string {
  return `${node.httpUrl.replace(/^http/, 'ws')}/api/v1/live${query}`
}

/** Opens a live connection; with a token, as `Authorization: Bearer`, waiting for `ready`. */
async function live(
  t: TestContext,
  node: { httpUrl: string },
  token?: string,
  options: { query?: string; ready?: boolean } = {},
): Promise<LiveClient> {
  const ws = new WebSocket(liveUrl(node, options.query), {
    ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
  })
  const client = new LiveClient(ws)
  t.after(() => ws.terminate())
  await once(ws, 'open')
  if (token !== undefined && options.ready !== false)
    await client.frame((f) => f.type === 'ready', 'ready')
  return client
}

async function apiToken(admin: Api, role: string): Promise<{ token: string; id: string }> {
  const created = await admin.post('/api/v1/tokens', { name: `live ${role}`, role })
  return { token: created.body.token as string, id: created.body.apiToken.id as string }
}

async function metricsOf(node: { httpUrl: string }, token: string): Promise<string> {
  const res = await fetch(`${node.httpUrl}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  })
  assert.equal(res.status, 200)
  return res.text()
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1))
}

async function mqttDevice(t: TestContext, node: { mqttUrl: string }, id: string, token: string) {
  return connect(t, node.mqttUrl, {
    protocolVersion: 5,
    clientId: id,
    username: id,
    password: token,
  })
}

test('a viewer gets the points a device publishes with mosquitto_pub, only of its device and metrics', async (t) => {
  const node = await startLiveNode(t)
  const admin = await adminOf(node)
  const pumpToken = await deviceWithToken(admin, 'pump-7')
  const otherToken = await deviceWithToken(admin, 'pump-8')
  const viewer = await apiToken(admin, 'viewer')
  const feed = await live(t, node, viewer.token)
  assert.deepEqual(feed.frames[0], {
    type: 'ready',
    tenantId: 'default',
    role: 'viewer',
    topics: ['telemetry', 'twin', 'presence', 'commands', 'alarms'],
  })
  await feed.subscribe({ id: 's1', topics: ['telemetry'], devices: ['pump-7'], metrics: ['temp'] })
  await feed.subscribe({ id: 'all', topics: ['telemetry'] })

  await mosquittoPub(node, 'pump-8', otherToken, '{"temp": 99}')
  const ts = Date.now() - 1000
  await mosquittoPub(
    node,
    'pump-7',
    pumpToken,
    `{"ts": ${String(ts)}, "values": {"temp": 21.5, "hum": 40}, "tags": {"probe": "north"}}`,
  )
  const got = await feed.frame((f) => f.subscription === 's1', 'telemetry on s1')
  assert.deepEqual(got, {
    type: 'telemetry',
    subscription: 's1',
    deviceId: 'pump-7',
    points: [{ metric: 'temp', ts, value: 21.5, tags: { probe: 'north' } }],
  })
  const all = await feed.frame(
    (f) => f.subscription === 'all' && f.deviceId === 'pump-7',
    'pump-7 on the unfiltered subscription',
  )
  assert.deepEqual(all.points.map((p: Frame) => p.metric).sort(), ['hum', 'temp'])
  assert.ok(
    feed.events('telemetry').some((f) => f.subscription === 'all' && f.deviceId === 'pump-8'),
    'the unfiltered subscription sees every device of the tenant',
  )
  assert.equal(
    feed.events('telemetry').filter((f) => f.subscription === 's1').length,
    1,
    's1 never saw pump-8',
  )

  // Unsubscribed: nothing more on s1.
  feed.send({ type: 'unsubscribe', id: 's1' })
  await feed.frame((f) => f.type === 'unsubscribed' && f.id === 's1', 'unsubscribed')
  await mosquittoPub(node, 'pump-7', pumpToken, '{"temp": 22}')
  await feed.frame(
    (f) => f.subscription === 'all' && f.points?.[0]?.value === 22,
    'the second point on "all"',
  )
  assert.equal(feed.events('telemetry').filter((f) => f.subscription === 's1').length, 1)

  const scrape = await metricsOf(node, (await apiToken(admin, 'admin')).token)
  assert.equal(metric(scrape, 'strata_live_connections'), 1)
  assert.ok(metric(scrape, 'strata_live_frames_sent_total') >= 8)
})

/** Registers a device with labels and issues its token. */
async function labelledDevice(admin: Api, id: string, labels: Record<string, string>) {
  await admin.post('/api/v1/devices', { id, labels })
  return (await admin.post(`/api/v1/devices/${id}/tokens`, {})).body.token as string
}

test('a label-filtered subscription gets telemetry and presence of matching devices only', async (t) => {
  const node = await startLiveNode(t)
  const admin = await adminOf(node)
  const berlin = await labelledDevice(admin, 'be-1', { site: 'berlin' })
  const paris = await labelledDevice(admin, 'pa-1', { site: 'paris' })
  const feed = await live(t, node, (await apiToken(admin, 'viewer')).token)
  await feed.subscribe({ id: 'be', topics: ['telemetry', 'presence'], labels: 'site=berlin' })

  const p = await mqttDevice(t, node, 'pa-1', paris)
  await p.publishAsync('strata/v1/devices/pa-1/telemetry', '{"temp": 5}', { qos: 1 })
  const b = await mqttDevice(t, node, 'be-1', berlin)
  const online = await feed.frame((f) => f.type === 'presence', 'be-1 online')
  assert.equal(online.subscription, 'be')
  assert.equal(online.deviceId, 'be-1')
  assert.equal(online.status, 'online')
  assert.equal(online.reason, 'connected')
  assert.equal(typeof online.since, 'number')
  await b.publishAsync('strata/v1/devices/be-1/telemetry', '{"temp": 7}', { qos: 1 })
  const point = await feed.frame((f) => f.type === 'telemetry', 'be-1 telemetry')
  assert.deepEqual([point.deviceId, point.points[0].value], ['be-1', 7])

  await b.endAsync()
  const offline = await feed.frame((f) => f.type === 'presence' && f.status === 'offline', 'off')
  assert.deepEqual([offline.deviceId, offline.reason], ['be-1', 'disconnected'])
  await p.endAsync()
  await sleep(150)
  assert.deepEqual(
    feed.frames.filter((f) => f.deviceId === 'pa-1'),
    [],
    'nothing of the Paris device',
  )
})

test('twin changes (desired after PATCH, reported from the device) and command statuses arrive', async (t) => {
  const node = await startLiveNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'pump-1')
  const feed = await live(t, node, (await apiToken(admin, 'viewer')).token)
  await feed.subscribe({ id: 'tw', topics: ['twin', 'commands'], devices: ['pump-1'] })

  await admin.patch('/api/v1/devices/pump-1/twin/desired', { config: { interval: 30 } })
  assert.deepEqual(await feed.frame((f) => f.type === 'twin', 'desired change'), {
    type: 'twin',
    subscription: 'tw',
    deviceId: 'pump-1',
    side: 'desired',
    version: 1,
    patch: { config: { interval: 30 } },
  })
  const device = await mqttDevice(t, node, 'pump-1', token)
  await device.publishAsync('strata/v1/devices/pump-1/twin/reported', '{"firmware": "2.1.0"}', {
    qos: 1,
  })
  const reported = await feed.frame((f) => f.type === 'twin' && f.side === 'reported', 'reported')
  assert.deepEqual([reported.version, reported.patch], [1, { firmware: '2.1.0' }])

  await device.subscribeAsync('strata/v1/devices/pump-1/commands/request/+', { qos: 1 })
  const sent = await admin.post('/api/v1/devices/pump-1/commands', { name: 'reboot' }, [202])
  const id = sent.body.id as string
  const command = (status: string) =>
    feed.frame((f) => f.type === 'command' && f.status === status, `command ${status}`)
  assert.deepEqual(await command('queued'), {
    type: 'command',
    subscription: 'tw',
    deviceId: 'pump-1',
    id,
    name: 'reboot',
    status: 'queued',
  })
  const answer = async (status: string) =>
    device.publishAsync(
      `strata/v1/devices/pump-1/commands/response/${id}`,
      JSON.stringify({ status }),
      { qos: 1, properties: { correlationData: Buffer.from(id) } },
    )
  await answer('accepted')
  await command('delivered')
  await answer('succeeded')
  await command('succeeded')
  assert.deepEqual(
    feed.events('command').map((f) => f.status),
    ['queued', 'delivered', 'succeeded'],
  )
})

test('another tenant’s events never arrive', async (t) => {
  const node = await startLiveNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'dev-a')
  const login = await otherTenantLogin(node, admin)
  const acmeSession = login.body.token as string
  const acmeApi = apiClient(node.httpUrl, acmeSession)
  const acmeDeviceToken = await deviceWithToken(acmeApi, 'acme-1')

  const everything = ['telemetry', 'twin', 'presence', 'commands', 'alarms']
  const acme = await live(t, node, acmeSession)
  assert.equal(acme.frames[0]?.tenantId, 'acme')
  await acme.subscribe({ id: 'all', topics: everything })
  await acme.subscribe({ id: 'theirs', topics: everything, devices: ['dev-a'] })
  const home = await live(t, node, (await apiToken(admin, 'viewer')).token)
  await home.subscribe({ id: 'all', topics: everything })

  // Everything that happens to dev-a, which the home tenant's viewer sees.
  const device = await mqttDevice(t, node, 'dev-a', token)
  await device.publishAsync('strata/v1/devices/dev-a/telemetry', '{"secret": 42}', { qos: 1 })
  await device.publishAsync('strata/v1/devices/dev-a/twin/reported', '{"x": 1}', { qos: 1 })
  await admin.patch('/api/v1/devices/dev-a/twin/desired', { y: 2 })
  await admin.post('/api/v1/devices/dev-a/commands', { name: 'reboot' }, [202])
  for (const type of ['telemetry', 'presence', 'twin', 'command'])
    await home.frame((f) => f.type === type && f.deviceId === 'dev-a', `home ${type}`)
  // And acme's own device, which the home tenant must not see.
  await mosquittoPub(node, 'acme-1', acmeDeviceToken, '{"temp": 1}')
  await acme.frame((f) => f.type === 'telemetry' && f.deviceId === 'acme-1', 'acme telemetry')
  await sleep(200)

  assert.deepEqual(
    acme.frames.filter((f) => f.deviceId === 'dev-a'),
    [],
    'acme saw nothing of dev-a',
  )
  assert.deepEqual(
    home.frames.filter((f) => f.deviceId === 'acme-1'),
    [],
    'home saw nothing of acme-1',
  )
})

test('authentication: bearer or first frame; bad, missing, late or URL tokens and revoked tokens get 4401; per-token limit 4429', async (t) => {
  const node = await startLiveNode(t, {
    authTimeoutMs: 300,
    recheckIntervalMs: 100,
    maxConnectionsPerToken: 2,
  })
  const admin = await adminOf(node)
  const viewer = await apiToken(admin, 'viewer')

  const bad = await live(t, node, `sat_${'0'.repeat(16)}_${'A'.repeat(43)}`, { ready: false })
  assert.equal((await bad.closed).code, 4401)
  assert.equal(bad.frames[0]?.code, 'CLOUD_UNAUTHENTICATED')
  const garbage = await live(t, node, 'not-a-token', { ready: false })
  assert.equal((await garbage.closed).code, 4401)

  const inUrl = await live(t, node, undefined, { query: `?token=${viewer.token}` })
  const urlClose = await inUrl.closed
  assert.equal(urlClose.code, 4401)
  assert.match(urlClose.reason, /URL/)

  const silent = await live(t, node)
  const started = Date.now()
  assert.equal((await silent.closed).code, 4401, 'no auth frame in time')
  assert.ok(Date.now() - started < 3000)

  const wrongFirst = await live(t, node)
  wrongFirst.send({ type: 'subscribe', id: 's', topics: ['telemetry'] })
  assert.equal((await wrongFirst.closed).code, 4401)

  // First-frame auth, with a subscribe sent right behind it (handled once the token checks out).
  const browser = await live(t, node)
  browser.send({ type: 'auth', token: viewer.token })
  browser.send({ type: 'subscribe', id: 's1', topics: ['presence'] })
  await browser.frame((f) => f.type === 'ready', 'ready after an auth frame')
  await browser.frame((f) => f.type === 'subscribed', 'subscribed after auth')
  assert.deepEqual(
    browser.frames.map((f) => f.type),
    ['ready', 'subscribed'],
  )

  // Two connections per token here: a third is refused, another token is not.
  const second = await live(t, node, viewer.token)
  const third = await live(t, node, viewer.token, { ready: false })
  const limited = await third.closed
  assert.equal(limited.code, 4429)
  assert.equal(third.frames[0]?.code, 'CLOUD_LIVE_LIMIT')
  const other = await live(t, node, (await apiToken(admin, 'viewer')).token)

  // Revoked while connected: closed at the next re-check (100 ms here, 30 s by default).
  await admin.delete(`/api/v1/tokens/${viewer.id}`)
  const revoked = await Promise.all([browser.closed, second.closed])
  assert.deepEqual(
    revoked.map((c) => c.code),
    [4401, 4401],
  )
  await sleep(250)
  assert.equal(other.ws.readyState, WebSocket.OPEN, 'the other token is still connected')
})

test('malformed, unknown and forbidden frames get error frames and keep the socket; over 64 KiB closes it with 1009', async (t) => {
  const node = await startLiveNode(t)
  const admin = await adminOf(node)
  const provisioner = await apiToken(admin, 'provisioner')
  const feed = await live(t, node, provisioner.token)
  assert.deepEqual(feed.frames[0]?.topics, ['twin', 'presence'])

  const errorAfter = async (frame: unknown) => {
    const before = feed.events('error').length
    feed.send(frame)
    await feed.frame(() => feed.events('error').length > before, `error for ${String(frame)}`)
    return feed.events('error').at(-1) as Frame
  }
  assert.equal((await errorAfter('{not json')).code, 'CLOUD_INVALID')
  assert.match((await errorAfter({ type: 'dance' })).message, /unknown frame type "dance"/)
  assert.equal((await errorAfter([1, 2])).code, 'CLOUD_INVALID')
  const badField = await errorAfter({ type: 'subscribe', id: 's1', topics: ['weather'] })
  assert.deepEqual([badField.code, badField.id], ['CLOUD_INVALID', 's1'])
  const badLabels = await errorAfter({
    type: 'subscribe',
    id: 's2',
    topics: ['twin'],
    labels: '=x',
  })
  assert.equal(badLabels.code, 'CLOUD_INVALID')
  const forbidden = await errorAfter({ type: 'subscribe', id: 's3', topics: ['twin', 'telemetry'] })
  assert.deepEqual([forbidden.code, forbidden.id], ['CLOUD_FORBIDDEN', 's3'])
  assert.match(forbidden.message, /telemetry: it needs telemetry:read/)
  assert.equal((await errorAfter({ type: 'unsubscribe', id: 'nope' })).code, 'CLOUD_NOT_FOUND')
  assert.equal((await errorAfter({ type: 'auth', token: provisioner.token })).code, 'CLOUD_INVALID')
  const binaryBefore = feed.events('error').length
  feed.ws.send(Buffer.from([1, 2, 3]))
  await feed.frame(() => feed.events('error').length > binaryBefore, 'error for a binary frame')

  // Still open and working: ping, and a subscription it may have.
  feed.send({ type: 'ping' })
  await feed.frame((f) => f.type === 'pong', 'pong')
  await feed.subscribe({ id: 'ok', topics: ['twin', 'presence'] })
  assert.equal(feed.ws.readyState, WebSocket.OPEN)

  feed.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(70 * 1024) }))
  assert.equal((await feed.closed).code, 1009)

  // A flood (50 frames a second, bursts of 100, by default) is cut with 1008.
  const flood = await live(t, node, provisioner.token)
  for (let i = 0; i < 150; i++) flood.send({ type: 'ping' })
  assert.equal((await flood.closed).code, 1008)

  // Without the upgrade: a 426 that says what the endpoint is; OpenAPI lists it.
  const plain = await fetch(`${node.httpUrl}/api/v1/live`)
  assert.equal(plain.status, 426)
  assert.equal(((await plain.json()) as Frame).code, 'CLOUD_INVALID')
  const openapi = (await (await fetch(`${node.httpUrl}/api/v1/openapi.json`)).json()) as Frame
  assert.ok(openapi.paths['/api/v1/live']?.get !== undefined)
})

test('a slow consumer gets a dropped frame instead of unbounded buffering, and ingestion goes on', async (t) => {
  const node = await startLiveNode(t, { sendQueue: { maxFrames: 20, inFlightBytes: 16 * 1024 } })
  const admin = await adminOf(node)
  const adminToken = (await apiToken(admin, 'admin')).token
  const token = await deviceWithToken(admin, 'fast-1')
  const feed = await live(t, node, adminToken)
  await feed.subscribe({ id: 't', topics: ['telemetry'] })
  const device = await mqttDevice(t, node, 'fast-1', token)

  // The client stops reading: the OS buffers fill, then the node's queue, then frames drop.
  feed.ws.pause()
  const filler = 'x'.repeat(200)
  let published = 0
  let dropped = 0
  const started = Date.now()
  while (dropped === 0 && published < 150) {
    const now = Date.now()
    const batch = Array.from({ length: 800 }, (_, i) => ({
      ts: now - 800 + i,
      values: { s: `${String(published)}-${String(i)}-${filler}` },
    }))
    await device.publishAsync('strata/v1/devices/fast-1/telemetry', JSON.stringify(batch), {
      qos: 1,
    })
    published++
    if (published % 5 === 0)
      dropped = metric(await metricsOf(node, adminToken), 'strata_live_frames_dropped_total')
  }
  assert.ok(dropped > 0, `frames were dropped after ${String(published)} messages`)
  const elapsed = Date.now() - started
  // Every PUBACK came (the points are durable) while the client read nothing.
  await device.publishAsync('strata/v1/devices/fast-1/telemetry', '{"marker": 1}', { qos: 1 })
  const latest = await admin.get('/api/v1/telemetry/latest?device=fast-1&metric=marker')
  assert.equal(latest.body.items.length, 1, 'ingestion went on')

  feed.ws.resume()
  const notice = await feed.frame((f) => f.type === 'dropped', 'the dropped frame', 10_000)
  assert.ok(notice.count > 0)
  await feed.frame(
    (f) => f.type === 'telemetry' && f.points.some((p: Frame) => p.metric === 'marker'),
    'the marker point after the drop',
    10_000,
  )
  const noticeAt = feed.frames.indexOf(notice)
  const markerAt = feed.frames.findIndex((f) => f.points?.some((p: Frame) => p.metric === 'marker'))
  assert.ok(noticeAt < markerAt, 'the dropped notice comes before what was kept after it')
  t.diagnostic(
    `${String(published)} messages of 800 points in ${String(elapsed)} ms; ${String(dropped)} frames dropped`,
  )
})

test('a client that stops answering pings is cut; the node-wide connection limit gives 1013', async (t) => {
  const node = await startLiveNode(t, { pingIntervalMs: 100, maxConnections: 2 })
  const admin = await adminOf(node)
  const viewer = (await apiToken(admin, 'viewer')).token
  const feed = await live(t, node, viewer)
  const quiet = await live(t, node, viewer)
  const full = await live(t, node, viewer, { ready: false })
  assert.equal((await full.closed).code, 1013)
  assert.equal(full.frames[0]?.code, 'CLOUD_LIVE_LIMIT')

  quiet.ws.pause()
  await sleep(500)
  quiet.ws.resume()
  assert.equal((await quiet.closed).code, 1006, 'terminated without a close frame')
  assert.equal(feed.ws.readyState, WebSocket.OPEN, 'a client that answers stays')
  await live(t, node, viewer) // the cut connection's place is free again
})
