/**
 * Hostile input: malformed, truncated, oversized, slow and numerous clients, and published broker
 * crashes replayed (published-crashes.ts, revoked-and-pinned.ts). Each attack must get the spec's answer and leave the
 * broker process up with a bystander client undisturbed (see brokers.ts).
 *
 * The brokers run in child processes: a crash kills the child, not the runner, and memory is
 * measured on the broker alone.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe } from 'node:test'
import { connectPacket, encode, frame, mqttString } from '../conformance/packets.js'
import {
  anyOfMatcher,
  closedMatcher,
  packetMatcher,
  sequenceMatcher,
} from '../conformance/raw-client.js'
import { BrokerSlot, hostile, mqttClient, rawClient } from './brokers.js'
import type { ChildBroker } from './child-broker.js'
import { describePublishedCrashes } from './published-crashes.js'
import { describeRevokedAndPinned } from './revoked-and-pinned.js'

const MiB = 1024 * 1024
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Connect timeout 1 s, so that slow and silent clients are dealt with inside a test. */
const quick = new BrokerSlot({ limits: { connectTimeoutSec: 1 } })
/** Default limits (10 s connect timeout, 1 MiB packets): for what defaults let through. */
const defaults = new BrokerSlot({})
/** Keep-alive bounded to 1 s (Mosquitto's max_keepalive answer to CVE-2020-13849). */
const boundedKeepAlive = new BrokerSlot({ limits: { maxKeepAliveSec: 1 } })

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return
    await delay(100)
  }
  assert.fail(`${what} (still not true after ${String(timeoutMs)} ms)`)
}

/** Opens `count` plain sockets, each writing `bytes`; resolves when all are connected. */
async function openMany(broker: ChildBroker, count: number, bytes: Buffer) {
  const sockets: net.Socket[] = []
  const closedAt: (number | undefined)[] = []
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const socket = net.connect({ port: broker.port, host: '127.0.0.1', noDelay: true })
      sockets.push(socket)
      socket.on('error', () => undefined)
      socket.on('close', () => (closedAt[i] = Date.now()))
      return new Promise<void>((resolve) =>
        socket.once('connect', () => {
          socket.write(bytes)
          resolve()
        }),
      )
    }),
  )
  return {
    sockets,
    closed: () => closedAt.filter((t) => t !== undefined).length,
    destroy: () => sockets.forEach((s) => s.destroy()),
  }
}

describe('hostile input', () => {
  before(() => {
    quick.warm()
    defaults.warm()
    boundedKeepAlive.warm()
  })
  after(async () => {
    await Promise.all([quick.close(), defaults.close(), boundedKeepAlive.close()])
  })

  hostile(
    'a remaining length of 5 bytes is malformed: closed (v5: DISCONNECT 0x81 first)',
    quick,
    async (b) => {
      for (const v of [4, 5] as const) {
        const c = await mqttClient(b, v, { clientId: `len5-v${String(v)}` })
        c.send('30 ff ff ff ff 01 00')
        if (v === 5) await c.expectPacket('e0 xx 81')
        await c.expectClosed()
      }
      const early = await rawClient(b)
      early.send('10 ff ff ff ff 01')
      await early.expectClosed()
    },
  )

  hostile(
    'truncated frames followed by a close leave no connection or session behind',
    quick,
    async (b) => {
      const before = await b.stats()
      const connect = connectPacket(5, { clientId: 'trunc-connect' })
      const publish = encode(
        {
          cmd: 'publish',
          topic: 'trunc/x',
          payload: 'abcdefgh',
          qos: 1,
          messageId: 1,
          retain: false,
          dup: false,
        },
        4,
      )
      for (const cut of [1, 2, 5, connect.length - 1]) {
        const c = await rawClient(b)
        c.send(connect.subarray(0, cut))
        await delay(20)
        await c.destroyed()
      }
      for (const cut of [1, 2, 4, publish.length - 1]) {
        const c = await mqttClient(b, 4, { clientId: `trunc-pub-${String(cut)}` })
        c.send(publish.subarray(0, cut))
        await delay(20)
        await c.destroyed()
      }
      await eventually(
        async () => {
          const now = await b.stats()
          return now.connections === before.connections && now.sessions === before.sessions
        },
        2000,
        'connections and sessions back to where they were',
      )
    },
  )

  hostile('PUBLISH before CONNECT is closed unanswered', quick, async (b) => {
    const c = await rawClient(b)
    c.send('32 08 00 03 70 2f 31 00 07 61')
    await c.expectClosed()
  })

  hostile(
    'a malformed CONNECT on one connection leaves CONNECT parsing intact for the next ones',
    quick,
    async (b) => {
      // Each refused CONNECT is followed by a good one on a new connection: a decoder that keeps
      // state across connections would refuse the good ones too.
      const malformed = [
        ['protocol level 2', '10 0d 00 04 4d 51 54 54 02 02 00 3c 00 01 6c'],
        ['protocol name MQTX', '10 0d 00 04 4d 51 54 58 04 02 00 3c 00 01 6e'],
        ['reserved flag set', '10 0d 00 04 4d 51 54 54 04 03 00 3c 00 01 72'],
        ['client id longer than the packet', '10 0d 00 04 4d 51 54 54 04 02 00 3c 00 09 63'],
      ] as const
      const problems: string[] = []
      for (const [what, bytes] of malformed) {
        const bad = await rawClient(b)
        bad.send(bytes)
        await bad.waitFor(
          anyOfMatcher([closedMatcher, sequenceMatcher([packetMatcher('20'), closedMatcher])]),
        )
        const good = await rawClient(b)
        good.send(connectPacket(4, { clientId: `after-${what.replace(/\W/g, '-')}` }))
        await good.expect('20 02 00 00').catch((err: unknown) => {
          problems.push(`after ${what}: ${err instanceof Error ? err.message : String(err)}`)
        })
      }
      assert.deepEqual(problems, [])
    },
  )

  hostile(
    'a second CONNECT is a protocol error (v5 DISCONNECT 0x82, v4 close)',
    quick,
    async (b) => {
      for (const v of [4, 5] as const) {
        const c = await mqttClient(b, v, { clientId: `again-v${String(v)}` })
        c.send(connectPacket(v, { clientId: `again-v${String(v)}` }))
        if (v === 5) await c.expectPacket('e0 xx 82')
        await c.expectClosed()
      }
    },
  )

  hostile(
    '"#" in the middle of a filter is refused in SUBACK; the rest of the SUBSCRIBE stands',
    quick,
    async (b) => {
      for (const v of [4, 5] as const) {
        const c = await mqttClient(b, v, { clientId: `hashmid-v${String(v)}` })
        c.send(
          encode(
            {
              cmd: 'subscribe',
              messageId: 3,
              subscriptions: [
                { topic: 'a/#/b', qos: 1 },
                { topic: 'a/b', qos: 1 },
              ],
            },
            v,
          ),
        )
        if (v === 4) await c.expect('90 04 00 03 80 01')
        // v5: any properties (a Reason String, say), then the codes 0x8F and 0x01.
        else await c.expectPacket('90 xx 00 03 * 8f 01 $')
      }
    },
  )

  hostile(
    'reused packet ids: each QoS 1 PUBLISH is acknowledged and delivered, each SUBSCRIBE answered',
    quick,
    async (b) => {
      const sub = await mqttClient(b, 4, { clientId: 'reuse-sub' })
      sub.send(
        encode(
          { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'reuse/x', qos: 0 }] },
          4,
        ),
      )
      await sub.expect('90 03 00 01 00')
      const pub = await mqttClient(b, 4, { clientId: 'reuse-pub' })
      const one = encode(
        {
          cmd: 'publish',
          topic: 'reuse/x',
          payload: 'm',
          qos: 1,
          messageId: 9,
          retain: false,
          dup: false,
        },
        4,
      )
      pub.send(Buffer.concat(Array.from({ length: 100 }, () => one)))
      await pub.expect('40 02 00 09 '.repeat(100), 3000)
      await sub.expect('30 0a 00 07 72 65 75 73 65 2f 78 6d '.repeat(100), 3000)
      pub.send('82 08 00 05 00 03 72 2f 31 00 82 08 00 05 00 03 72 2f 32 00')
      await pub.expect('90 03 00 05 00 90 03 00 05 00')
    },
  )

  hostile(
    'topic aliases 0, 65 (maximum 64) and 65535 each get DISCONNECT 0x94',
    quick,
    async (b) => {
      for (const alias of [0, 65, 65535]) {
        const c = await mqttClient(b, 5, { clientId: `alias-${String(alias)}` })
        c.send(
          encode(
            {
              cmd: 'publish',
              topic: 'alias/x',
              payload: 'm',
              qos: 0,
              retain: false,
              dup: false,
              properties: { topicAlias: alias },
            },
            5,
          ),
        )
        await c.expectPacket('e0 xx 94')
        await c.expectClosed()
      }
    },
  )

  hostile(
    'a 256 MiB length prefix is refused after 5 bytes (DISCONNECT 0x95) and the RSS stays flat',
    quick,
    async (b) => {
      const before = await b.stats()
      const c = await mqttClient(b, 5, { clientId: 'huge' })
      c.send('30 ff ff ff 7f')
      await c.expectPacket('e0 xx 95')
      await c.expectClosed()
      // What an attacker would stream next: the broker must not be holding any of it.
      const follower = await mqttClient(b, 4, { clientId: 'huge-v4' })
      follower.send('30 ff ff ff 7f')
      follower.send(Buffer.alloc(4 * MiB))
      await follower.expectClosed(2000)
      const after = await b.stats()
      assert.ok(
        after.rssBytes - before.rssBytes < 32 * MiB,
        `RSS grew by ${String(Math.round((after.rssBytes - before.rssBytes) / MiB))} MiB`,
      )
    },
  )

  hostile(
    'slowloris: a CONNECT sent one byte a second is cut at the connect timeout (1 s)',
    quick,
    async (b) => {
      const c = await rawClient(b)
      const started = Date.now()
      const bytes = connectPacket(4, { clientId: 'slowloris' })
      const drip = setInterval(() => {
        const i = Math.floor((Date.now() - started) / 1000)
        if (i < bytes.length) c.send(bytes.subarray(i, i + 1))
      }, 1000)
      c.send(bytes.subarray(0, 1))
      try {
        await c.expectClosed(2500)
      } finally {
        clearInterval(drip)
      }
      const after = Date.now() - started
      assert.ok(after >= 900, `closed after ${String(after)} ms, before the timeout`)
    },
  )

  hostile(
    '1,000 connections half-sending CONNECT at once are all closed by the connect timeout',
    quick,
    async (b) => {
      const connect = connectPacket(4, { clientId: 'half' })
      const crowd = await openMany(b, 1000, connect.subarray(0, 8))
      try {
        await eventually(
          async () => Promise.resolve(crowd.closed() === 1000),
          6000,
          `all 1,000 closed (${String(crowd.closed())} so far)`,
        )
      } finally {
        crowd.destroy()
      }
    },
    { timeoutMs: 40_000 },
  )

  hostile(
    'a SUBSCRIBE or UNSUBSCRIBE with no topic filter is refused without taking the broker down',
    quick,
    async (b) => {
      const attempts: [4 | 5, string, string][] = [
        [5, '82 03 00 01 00', 'SUBSCRIBE v5'],
        [4, '82 02 00 01', 'SUBSCRIBE v4'],
        [5, 'a2 03 00 01 00', 'UNSUBSCRIBE v5'],
        [4, 'a2 02 00 01', 'UNSUBSCRIBE v4'],
      ]
      for (const [v, bytes, what] of attempts) {
        if (!b.alive) break
        const c = await mqttClient(b, v, { clientId: `nofilter-${String(v)}-${bytes.slice(0, 2)}` })
        c.send(bytes)
        // [MQTT-3.8.3-2] / [MQTT-3.10.3-2]: a Protocol Error (0x82); 0x81 is accepted too.
        const answer =
          v === 5
            ? sequenceMatcher([
                anyOfMatcher([packetMatcher('e0 xx 82'), packetMatcher('e0 xx 81')]),
                closedMatcher,
              ])
            : closedMatcher
        await c.waitFor(answer).catch((err: unknown) => {
          throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`)
        })
      }
    },
  )

  hostile(
    'a v5 SUBSCRIBE whose Subscription Identifier runs past the property length is malformed',
    quick,
    async (b) => {
      // Property Length 1, but Subscription Identifier (0x0B) needs 2 bytes: the 0x01 after it lies
      // outside the properties. The packet is malformed [MQTT-2.2.2]; it must be refused, not parsed
      // one way by the decoder and another by the UTF-8 check.
      const body = Buffer.concat([
        Buffer.from([0x00, 0x01, 0x01, 0x0b, 0x01]),
        Buffer.from(mqttString('a'.repeat(127)), 'hex'),
        Buffer.from([0x00]),
        Buffer.from(mqttString('b'.repeat(126)), 'hex'),
        Buffer.from([0x00]),
      ])
      const c = await mqttClient(b, 5, { clientId: 'propoverrun' })
      c.send(frame(0x82, body))
      await c.expectPacket('e0 xx 81')
      await c.expectClosed()
    },
  )

  describePublishedCrashes({ quick, defaults })
  describeRevokedAndPinned({ quick, boundedKeepAlive })
})
