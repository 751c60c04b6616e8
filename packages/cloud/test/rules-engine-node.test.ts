import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { connect as natsConnect } from 'nats'
import mqtt, { type MqttClient } from 'mqtt'
import pino from 'pino'
import { decodeCbor } from '@strata/protocol'
import { testNatsUrl, uniqueSubject } from '../../../test-support/nats.js'
import { startBroker } from '../../mqtt/test/behaviour/helpers.js'
import { startNode, type StrataNode } from '../src/index.js'
import { RuleContextCache } from '../src/rules/rule-context.js'
import { RuleEngine } from '../src/rules/rule-engine.js'
import type { StoredRule } from '../src/rules/rule-types.js'
import { adminOf, connectDeviceWithToken, type apiClient } from './node/node-fixture.js'

type Api = ReturnType<typeof apiClient>

const secret = 'a-webhook-secret-of-at-least-32-characters'
const telemetry = (id: string) => `strata/v1/devices/${id}/telemetry`

let node: StrataNode
let dataDir: string
let admin: Api
const clients: MqttClient[] = []

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'strata-rules-'))
  node = await startNode({
    dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    mqttsPort: 0,
    httpPort: 0,
    // The test's receivers are on loopback: allowed here only, never by default.
    delivery: { allowPrivateNetworks: true, backoff: { initialMs: 50, maxMs: 200, factor: 2 } },
  })
  admin = await adminOf(node)
})

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)))
  await node.close()
  await rm(dataDir, { recursive: true, force: true })
})

/** A registered device connected over MQTT 5 with its token. */
async function device(id: string): Promise<MqttClient> {
  const client = await connectDeviceWithToken(node.mqttUrl, admin, id)
  clients.push(client)
  return client
}

/** Publishes telemetry at QoS 1; resolves at the PUBACK, rejects on a refusal. */
async function send(client: MqttClient, id: string, payload: unknown): Promise<void> {
  await client.publishAsync(telemetry(id), JSON.stringify(payload), { qos: 1 })
}

async function eventually<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 5_000,
) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

async function createRule(definition: Record<string, unknown>) {
  return (await admin.post('/api/v1/rules', { enabled: true, ...definition }, [201])).body
}

async function openAlarms(deviceId: string, type: string) {
  const page = await admin.get(`/api/v1/alarms?device=${deviceId}&type=${type}&status=open`)
  return page.body.items as { status: string; source: { rule?: string } }[]
}

/** An HTTP receiver on 127.0.0.1:0; `answer` decides each call's status (undefined: never answer). */
async function receiver(answer: (n: number) => number | undefined) {
  const calls: { headers: IncomingMessage['headers']; body: Buffer }[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      calls.push({ headers: req.headers, body: Buffer.concat(chunks) })
      const status = answer(calls.length)
      if (status !== undefined) res.writeHead(status).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    })
  return { url, calls, close }
}

describe('rules in the node', () => {
  it('a forAtLeast rule with hysteresis raises an alarm and clears it below the clear threshold', async () => {
    await createRule({
      name: 'overheat',
      match: { topicKinds: ['telemetry'], metrics: ['temp'] },
      operators: [
        { name: 'hot', type: 'forAtLeast', metric: 'temp', forMs: 1_000, above: 80, below: 75 },
      ],
      condition: 'state.hot.active',
      actions: [{ type: 'alarm', name: 'overheat', severity: 'critical', message: 'too hot' }],
    })
    const c = await device('boiler-1')
    const t0 = Date.now() - 10_000
    await send(c, 'boiler-1', { ts: t0, values: { temp: 85 } })
    assert.deepEqual(await openAlarms('boiler-1', 'overheat'), []) // not yet held for 1 s
    await send(c, 'boiler-1', { ts: t0 + 1_500, values: { temp: 86 } })
    const raised = await eventually('the alarm', async () => {
      const open = await openAlarms('boiler-1', 'overheat')
      return open.length === 1 ? open : undefined
    })
    assert.equal(raised[0]?.source.rule, 'overheat')
    await send(c, 'boiler-1', { ts: t0 + 2_000, values: { temp: 78 } }) // between: stays raised
    assert.equal((await openAlarms('boiler-1', 'overheat')).length, 1)
    await send(c, 'boiler-1', { ts: t0 + 2_500, values: { temp: 70 } }) // below 75: clears
    await eventually('the clear', async () =>
      (await openAlarms('boiler-1', 'overheat')).length === 0 ? true : undefined,
    )
    const stats = (await admin.get('/api/v1/rules/overheat')).body.stats
    assert.equal(stats.selected, 4)
    assert.equal(stats.matched, 2)
    assert.equal(stats.health, 'ok')
  })

  it('a webhook gets HMAC-signed calls, retried after two failures, with one delivery id', async () => {
    const hook = await receiver((n) => (n <= 2 ? 503 : 204))
    try {
      await createRule({
        name: 'pressure-hook',
        match: { metrics: ['pressure'] },
        condition: 'payload.pressure > 5.0',
        transform: '{"pressure": payload.pressure, "device": device.id}',
        actions: [{ type: 'webhook', url: hook.url, secret }],
      })
      const c = await device('valve-1')
      await send(c, 'valve-1', { pressure: 2.5 }) // no match: no call
      await send(c, 'valve-1', { pressure: 7.5 })
      await eventually('three attempts', () => (hook.calls.length >= 3 ? true : undefined))
      assert.equal(hook.calls.length, 3)
      const ids = new Set(hook.calls.map((call) => call.headers['x-strata-delivery']))
      assert.equal(ids.size, 1)
      assert.deepEqual(
        hook.calls.map((call) => call.headers['x-strata-attempt']),
        ['1', '2', '3'],
      )
      for (const call of hook.calls) {
        const ts = String(call.headers['x-strata-timestamp'])
        const expected = createHmac('sha256', secret)
          .update(`${ts}.`)
          .update(call.body)
          .digest('hex')
        assert.equal(call.headers['x-strata-signature'], `v1=${expected}`)
        const body = JSON.parse(call.body.toString())
        assert.equal(body.rule, 'pressure-hook')
        assert.equal(body.deviceId, 'valve-1')
        assert.deepEqual(body.output, { pressure: 7.5, device: 'valve-1' })
      }
      const stats = (await admin.get('/api/v1/rules/pressure-hook')).body.stats
      assert.equal(stats.matched, 1)
      assert.equal(stats.actionsRun, 1)
    } finally {
      await hook.close()
    }
  })

  it('set-desired reaches the twin and a command action queues a command, both as the rule', async () => {
    await createRule({
      name: 'fan-on',
      match: { metrics: ['humidity'] },
      condition: 'payload.humidity > 70.0',
      actions: [
        { type: 'set-desired', patch: { fan: 'on' } },
        { type: 'command', name: 'ventilate', params: { minutes: 5 } },
      ],
    })
    const c = await device('room-1')
    await send(c, 'room-1', { humidity: 80.5 })
    const twin = await eventually('the desired fan', async () => {
      const t = (await admin.get('/api/v1/devices/room-1/twin')).body
      return t.desired.fan === 'on' ? t : undefined
    })
    assert.equal(twin.desired.fan, 'on')
    const commands = await eventually('the command', async () => {
      const list = (await admin.get('/api/v1/devices/room-1/commands')).body.items as {
        name: string
        params: unknown
      }[]
      return list.length > 0 ? list : undefined
    })
    const [command] = commands
    assert.equal(command?.name, 'ventilate')
    assert.deepEqual(command.params, { minutes: 5 })
    const audit = (await admin.get('/api/v1/audit?limit=200')).body.items as { actor: string }[]
    assert.ok(
      audit.some((e) => e.actor === 'rule:fan-on'),
      'the twin change is audited as the rule',
    )
  })

  it('a rule that fails at run time is counted, then disabled, while ingestion goes on', async () => {
    await createRule({
      name: 'broken',
      match: { metrics: ['x'] },
      condition: 'int(payload.x) / int(payload.y) > 1',
      actions: [{ type: 'alarm', name: 'never', severity: 'info' }],
    })
    const c = await device('meter-1')
    const t0 = Date.now() - 60_000
    for (let i = 0; i < 12; i++) {
      await send(c, 'meter-1', { ts: t0 + i, values: { x: 4, y: 0 } }) // every PUBACK is a success
    }
    const rule = await eventually('the rule disabled', async () => {
      const r = (await admin.get('/api/v1/rules/broken')).body
      return r.enabled === false ? r : undefined
    })
    assert.match(rule.disabledReason, /ANALYTICS_EVALUATION_FAILED/)
    assert.equal(rule.stats.health, 'disabled')
    assert.equal(rule.stats.errors, 10)
    assert.equal(rule.stats.lastError.code, 'ANALYTICS_EVALUATION_FAILED')
    const raw = await admin.get(
      `/api/v1/telemetry/raw?device=meter-1&metric=x&from=${String(t0)}&to=${String(t0 + 100)}`,
    )
    assert.equal(raw.body.series[0]?.times.length, 12)
  })

  it('a webhook that never answers does not slow the PUBACKs', async () => {
    const hook = await receiver(() => undefined)
    try {
      await createRule({
        name: 'slow-hook',
        match: { metrics: ['load'] },
        actions: [{ type: 'webhook', url: hook.url, secret, timeoutMs: 60_000 }],
      })
      const c = await device('crane-1')
      await send(c, 'crane-1', { load: 1 })
      await eventually('the receiver called', () => (hook.calls.length > 0 ? true : undefined))
      const started = Date.now()
      for (let i = 0; i < 50; i++) await send(c, 'crane-1', { load: i })
      const perMessage = (Date.now() - started) / 50
      assert.ok(perMessage < 100, `a PUBACK took ${String(perMessage)} ms on average`)
      const stats = (await admin.get('/api/v1/rules/slow-hook')).body.stats
      assert.equal(stats.matched, 51)
    } finally {
      await hook.close()
    }
  })

  it('a heartbeat rule raises an alarm when a device goes silent, and its next message clears it', async () => {
    await createRule({
      name: 'silent',
      match: { metrics: ['beat'] },
      operators: [{ name: 'alive', type: 'heartbeat', timeoutMs: 400, metric: 'beat' }],
      condition: 'state.alive.silent',
      actions: [{ type: 'alarm', name: 'silent', severity: 'warning' }],
    })
    const c = await device('gate-1')
    await send(c, 'gate-1', { beat: 1 })
    assert.deepEqual(await openAlarms('gate-1', 'silent'), [])
    await eventually('the silence alarm', async () =>
      (await openAlarms('gate-1', 'silent')).length === 1 ? true : undefined,
    )
    await send(c, 'gate-1', { beat: 1 })
    await eventually('the clear', async () =>
      (await openAlarms('gate-1', 'silent')).length === 0 ? true : undefined,
    )
  })

  it('a NATS action publishes the output on the subject', async () => {
    const url = await testNatsUrl()
    const nc = await natsConnect({ servers: [url] })
    try {
      const subject = uniqueSubject('rules')
      const sub = nc.subscribe(subject, { max: 1 })
      await nc.flush()
      await createRule({
        name: 'to-nats',
        match: { metrics: ['level'] },
        transform: '{"level": payload.level}',
        actions: [{ type: 'nats', servers: [url], subject }],
      })
      const c = await device('tank-1')
      await send(c, 'tank-1', { level: 3.5 })
      for await (const m of sub) {
        const body = JSON.parse(new TextDecoder().decode(m.data))
        assert.equal(body.rule, 'to-nats')
        assert.deepEqual(body.output, { level: 3.5 })
        assert.match(m.headers?.get('Nats-Msg-Id') ?? '', /^r\./)
      }
    } finally {
      await nc.close()
    }
  })
})

// The engine's republish on a plain broker, with the engine publishing exactly as the node wires
// it: under the tenant's namespace. Applications reading it from the node with an API token are
// tested in rule-republish-node.test.ts.
describe('republish', () => {
  it('publishes the output as the node, JSON or CBOR, with {deviceId} and {rule} replaced', async (t) => {
    const { broker, url } = await startBroker(t)
    const rule: StoredRule = {
      tenantId: 't1',
      name: 'level-out',
      version: 1,
      enabled: true,
      definition: {
        name: 'level-out',
        enabled: true,
        match: { metrics: ['level'] },
        transform: '{"level": payload.level, "from": device.id}',
        actions: [
          { type: 'republish', topic: 'plant/{deviceId}/{rule}', qos: 1 },
          { type: 'republish', topic: 'plant/{deviceId}/cbor', format: 'cbor' },
        ],
      },
      createdAt: 0,
      updatedAt: 0,
      updatedBy: 'system',
    }
    const unused = () => Promise.reject(new Error('not used in this test'))
    const engine = new RuleEngine({
      source: { all: () => [rule], onChange: () => undefined, disableForFailures: () => undefined },
      context: new RuleContextCache({
        lookupDevice: () => undefined,
        readTwin: () => ({}),
        clock: Date.now,
      }),
      clock: Date.now,
      log: pino({ level: 'silent' }),
      host: {
        outbox: undefined,
        alarms: undefined,
        publish: (m) => broker.publish(m),
        storeTelemetry: unused,
        patchDesired: () => {
          throw new Error('not used in this test')
        },
        sendCommand: () => {
          throw new Error('not used in this test')
        },
      },
    })
    engine.start()
    t.after(() => engine.close())
    const sub = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
    t.after(() => sub.endAsync(true))
    const got = new Map<string, Buffer>()
    sub.on('message', (topic, payload) => got.set(topic, payload))
    await sub.subscribeAsync('#', { qos: 1 })
    engine.onAccepted({
      tenantId: 't1',
      deviceId: 'tank-7',
      topic: telemetry('tank-7'),
      kind: 'telemetry',
      format: 'json',
      payload: new Uint8Array(),
      receivedAt: Date.now(),
      records: [{ values: { level: 2.5 } }],
    })
    engine.onAccepted({
      tenantId: 't2', // another tenant: its messages never reach t1's rules
      deviceId: 'tank-8',
      topic: telemetry('tank-8'),
      kind: 'telemetry',
      format: 'json',
      payload: new Uint8Array(),
      receivedAt: Date.now(),
      records: [{ values: { level: 9 } }],
    })
    await eventually('both messages', () => (got.size >= 2 ? true : undefined))
    const out = 'strata/v1/tenants/t1/rules/plant/tank-7'
    assert.deepEqual(JSON.parse(got.get(`${out}/level-out`)?.toString() ?? ''), {
      level: 2.5,
      from: 'tank-7',
    })
    assert.deepEqual(decodeCbor(got.get(`${out}/cbor`) ?? new Uint8Array()), {
      level: 2.5,
      from: 'tank-7',
    })
    await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual([...got.keys()].sort(), [`${out}/cbor`, `${out}/level-out`])
    assert.equal(engine.statsOf('t1', 'level-out')?.actionsRun, 2)
  })
})
