import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import {
  connect,
  eventually,
  inboxOf,
  numbered,
  runTool,
  spawnTool,
  startBroker,
  testTimeoutMs,
  within,
  type Spawned,
  type TestBroker,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }
const versions = ['mqttv311', 'mqttv5'] as const
type Version = (typeof versions)[number]

/** A broker that counts the filters it has authorised, so a test knows mosquitto_sub is ready. */
async function startWatchedBroker(
  t: TestContext,
): Promise<TestBroker & { subscribed(filter: string): Promise<void> }> {
  const filters: string[] = []
  const b = await startBroker(t, {
    hooks: {
      authorizeSubscribe: (_c, filter) => {
        filters.push(filter)
        return { allowed: true }
      },
    },
  })
  return {
    ...b,
    subscribed: (filter) =>
      eventually(() => filters.includes(filter), 3_000, `mosquitto_sub subscribed to ${filter}`),
  }
}

function common(b: TestBroker, version: Version): string[] {
  return ['-h', '127.0.0.1', '-p', String(b.port), '-V', version]
}

/** Starts mosquitto_sub printing "QoS retain topic payload" per message, and waits until it subscribed. */
async function sub(
  t: TestContext,
  b: TestBroker & { subscribed(filter: string): Promise<void> },
  version: Version,
  topic: string,
  extra: string[],
): Promise<Spawned> {
  const spawned = spawnTool(t, 'mosquitto_sub', [
    ...common(b, version),
    '-t',
    topic,
    '-F',
    '%q %r %t %p',
    ...extra,
  ])
  await b.subscribed(topic)
  return spawned
}

async function exited(spawned: Spawned, ms = 5_000): Promise<string> {
  await within(spawned.exited, ms, `mosquitto_sub to exit; stderr: ${spawned.stderr}`)
  return spawned.stdout
}

describe('mosquitto_pub and mosquitto_sub', { concurrency: true }, () => {
  for (const version of versions) {
    for (const qos of ['0', '1', '2']) {
      it(`carries a QoS ${qos} message between mosquitto clients (${version})`, opts, async (t) => {
        const b = await startWatchedBroker(t)
        const s = await sub(t, b, version, 'mosq/qos', ['-q', qos, '-C', '1'])
        await runTool(t, 'mosquitto_pub', [
          ...common(b, version),
          '-t',
          'mosq/qos',
          '-q',
          qos,
          '-m',
          `hello ${qos}`,
        ])
        assert.equal(await exited(s), `${qos} 0 mosq/qos hello ${qos}\n`)
      })
    }

    it(`keeps, delivers and clears a retained message (${version})`, opts, async (t) => {
      const b = await startWatchedBroker(t)
      await runTool(t, 'mosquitto_pub', [
        ...common(b, version),
        '-t',
        'mosq/ret',
        '-q',
        '1',
        '-r',
        '-m',
        'kept',
      ])
      const first = await sub(t, b, version, 'mosq/ret', ['-q', '1', '-C', '1'])
      assert.equal(await exited(first), '1 1 mosq/ret kept\n')
      await runTool(t, 'mosquitto_pub', [
        ...common(b, version),
        '-t',
        'mosq/ret',
        '-q',
        '1',
        '-r',
        '-n',
      ])
      const second = spawnTool(t, 'mosquitto_sub', [
        ...common(b, version),
        '-t',
        'mosq/ret',
        '-F',
        '%p',
        '-W',
        '1',
      ])
      await exited(second, 3_000)
      assert.equal(second.stdout, '', 'the empty retained message cleared it')
    })

    it(
      `publishes the will of a mosquitto_sub that is killed, not of one that exits (${version})`,
      opts,
      async (t) => {
        const b = await startWatchedBroker(t)
        const watcher = await connect(t, b.url, { protocolVersion: 5 })
        await watcher.subscribeAsync('mosq/will/+', { qos: 1 })
        const willArgs = (name: string): string[] => [
          '--will-topic',
          `mosq/will/${name}`,
          '--will-payload',
          `${name} died`,
          '--will-qos',
          '1',
        ]
        const killed = await sub(t, b, version, 'mosq/k', willArgs('killed'))
        // -E: subscribe, then DISCONNECT 0x00. (On SIGTERM a v5 mosquitto_sub sends DISCONNECT
        // 0x04, "with will", so that is no polite exit.)
        await runTool(t, 'mosquitto_sub', [
          ...common(b, version),
          '-t',
          'mosq/p',
          '-E',
          ...willArgs('polite'),
        ])
        killed.child.kill('SIGKILL')
        await inboxOf(watcher).waitFor(1)
        assert.deepEqual(
          (await inboxOf(watcher).settle(300)).map((m) => m.payload),
          ['killed died'],
        )
      },
    )

    it(
      `queues messages for a -c persistent mosquitto_sub while it is away (${version})`,
      opts,
      async (t) => {
        const b = await startWatchedBroker(t)
        const session = ['-c', '-i', `persist-${version}`, '-q', '1']
        // -E: subscribe, then disconnect (cleanly) at once.
        await runTool(t, 'mosquitto_sub', [
          ...common(b, version),
          ...session,
          '-t',
          'mosq/away',
          '-E',
        ])
        await eventually(() => b.broker.connectionCount === 0, 2_000, 'mosquitto_sub left')
        const sent = numbered(5, 'queued-')
        await runTool(
          t,
          'mosquitto_pub',
          [...common(b, version), '-t', 'mosq/away', '-q', '1', '-l'],
          {
            input: `${sent.join('\n')}\n`,
          },
        )
        const back = spawnTool(t, 'mosquitto_sub', [
          ...common(b, version),
          ...session,
          '-t',
          'mosq/away',
          '-C',
          '5',
          '-F',
          '%p',
        ])
        assert.equal(await exited(back), `${sent.join('\n')}\n`)
      },
    )

    it(`keeps the order of many lines from mosquitto_pub -l (${version})`, opts, async (t) => {
      const b = await startWatchedBroker(t)
      const client = await connect(t, b.url, { protocolVersion: 5 })
      await client.subscribeAsync('mosq/lines', { qos: 1 })
      const sent = numbered(200, 'line-')
      await runTool(
        t,
        'mosquitto_pub',
        [...common(b, version), '-t', 'mosq/lines', '-q', '1', '-l'],
        {
          input: `${sent.join('\n')}\n`,
        },
      )
      await inboxOf(client).waitFor(200)
      assert.deepEqual(inboxOf(client).payloads, sent)
    })

    it(`reports a refused login to mosquitto_pub (${version})`, opts, async (t) => {
      const b = await startBroker(t, {
        hooks: { authenticate: () => ({ ok: false, reasonCode: 0x86 }) },
      })
      const pub = spawnTool(t, 'mosquitto_pub', [
        ...common(b, version),
        '-u',
        'who',
        '-P',
        'wrong',
        '-t',
        'x',
        '-m',
        'x',
      ])
      const { code } = await within(pub.exited, 5_000, 'mosquitto_pub to give up')
      assert.notEqual(code, 0)
      assert.match(pub.stderr, /bad user ?name or password/i)
    })
  }

  it(
    'passes MQTT 5 user properties and content type from mosquitto_pub to subscribers',
    opts,
    async (t) => {
      const b = await startWatchedBroker(t)
      const client = await connect(t, b.url, { protocolVersion: 5 })
      await client.subscribeAsync('mosq/props', { qos: 1 })
      await runTool(t, 'mosquitto_pub', [
        ...common(b, 'mqttv5'),
        '-t',
        'mosq/props',
        '-q',
        '1',
        '-m',
        '{}',
        '-D',
        'publish',
        'user-property',
        'site',
        'north',
        '-D',
        'publish',
        'content-type',
        'application/json',
      ])
      const [m] = await inboxOf(client).waitFor(1)
      assert.deepEqual({ ...m?.packet.properties?.userProperties }, { site: 'north' })
      assert.equal(m?.packet.properties?.contentType, 'application/json')
    },
  )

  it('delivers from MQTT.js to mosquitto_sub at QoS 2, exactly once', opts, async (t) => {
    const b = await startWatchedBroker(t)
    const s = await sub(t, b, 'mqttv5', 'mosq/once', ['-q', '2', '-C', '3'])
    const client = await connect(t, b.url, { protocolVersion: 4 })
    for (const payload of ['a', 'b', 'c'])
      await client.publishAsync('mosq/once', payload, { qos: 2 })
    assert.equal(await exited(s), '2 0 mosq/once a\n2 0 mosq/once b\n2 0 mosq/once c\n')
  })
})
