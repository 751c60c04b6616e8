/**
 * Published broker vulnerabilities in parsing and memory handling, replayed against our broker:
 * each test is named after its CVE or issue, with a line on what it was. The expected answer is
 * the spec's, plus "still up" (see brokers.ts).
 */
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { connectPacket, encode, frame, mqttString } from '../conformance/packets.js'
import { type BrokerSlot, hostile, mqttClient, rawClient } from './brokers.js'
import { MiB, delay, mib, openWebSocket, publish, subscribe, tap } from './attack-helpers.js'

export function describePublishedCrashes(slots: {
  readonly quick: BrokerSlot
  readonly defaults: BrokerSlot
}): void {
  const { quick, defaults } = slots
  describe('published broker crashes, replayed', () => {
    // Mosquitto < 2.0.16 allocated a packet's announced size before checking it was a CONNECT.
    hostile(
      '[CVE-2023-0809] a 256 MiB remaining length before CONNECT is refused at once',
      quick,
      async (b) => {
        const before = await b.stats()
        const c = await rawClient(b)
        c.send('10 ff ff ff 7f')
        await c.expectClosed(500)
        const after = await b.stats()
        assert.ok(
          after.rssBytes - before.rssBytes < 16 * MiB,
          `RSS grew by ${mib(after.rssBytes - before.rssBytes)}`,
        )
      },
    )

    // The same CVE's other half: the first packet is not even a CONNECT, but fits the size limit.
    hostile(
      '[CVE-2023-0809] a first packet that is not CONNECT is refused on its first byte, not buffered',
      defaults,
      async (b) => {
        const problems: string[] = []
        const header = Buffer.from('30fbff3f', 'hex') // PUBLISH, remaining length 1,048,571 (under the 1 MiB limit)
        const body = Buffer.alloc(1_048_571 - 1, 0x61) // all but the last byte: the frame stays incomplete
        const before = await b.stats()
        const sockets = await Promise.all(
          Array.from({ length: 24 }, async () => {
            const c = await rawClient(b)
            c.send(Buffer.concat([header, body]))
            return c
          }),
        )
        await delay(500)
        const during = await b.stats()
        const held = during.arrayBufferBytes - before.arrayBufferBytes
        if (held > 8 * MiB)
          problems.push(
            `24 unauthenticated connections made the broker hold ${mib(held)} of Buffers (RSS +${mib(during.rssBytes - before.rssBytes)})`,
          )
        const open = sockets.filter((c) => !c.closed).length
        if (open > 0)
          problems.push(
            `${String(open)} of 24 connections were still open 500 ms after a non-CONNECT first byte`,
          )
        assert.deepEqual(problems, [])
      },
    )

    // Mosquitto < 2.0.16 leaked memory for each QoS 2 PUBLISH that reused an id awaiting PUBREL.
    hostile(
      '[CVE-2023-28366] 2,000 QoS 2 PUBLISH reusing one id: one delivery, flat memory, then the id is free',
      quick,
      async (b) => {
        const sub = await mqttClient(b, 4, { clientId: 'leak-sub' })
        sub.send(subscribe(4, 'leak/x'))
        await sub.expect('90 03 00 01 00')
        const pub = await mqttClient(b, 4, { clientId: 'leak-pub' })
        const before = await b.stats()
        for (let batch = 0; batch < 20; batch++) {
          const packets = Array.from({ length: 100 }, (_, i) =>
            publish(
              4,
              'leak/x',
              `${String(batch * 100 + i).padStart(6, '0')}${'x'.repeat(1000)}`,
              2,
              1,
            ),
          )
          pub.send(Buffer.concat(packets))
          await pub.expect('50 02 00 01 '.repeat(100), 3000)
        }
        const after = await b.stats()
        const first = await sub.readPacket()
        assert.ok(
          first.includes(Buffer.from('000000xxx')),
          'the first message is the one delivered',
        )
        await sub.expectNothing(300)
        assert.ok(
          after.rssBytes - before.rssBytes < 16 * MiB,
          `RSS grew by ${mib(after.rssBytes - before.rssBytes)}`,
        )
        pub.send('62 02 00 01')
        await pub.expect('70 02 00 01')
        pub.send(publish(4, 'leak/x', 'fresh', 2, 1))
        await pub.expect('50 02 00 01')
        await sub.expect(publish(4, 'leak/x', 'fresh').toString('hex'))
      },
    )

    // Mosquitto < 2.0.16 leaked memory when a v5 will carried property types a will may not have.
    hostile(
      '[CVE-2023-3592] a will carrying a property no will may have makes the CONNECT malformed',
      quick,
      async (b) => {
        const willProps = [
          ['Subscription Identifier', '02 0b 01'],
          ['Topic Alias', '03 23 00 01'],
          ['Will Delay Interval twice', '0a 18 00 00 00 01 18 00 00 00 02'],
        ] as const
        const problems: string[] = []
        for (const [what, props] of willProps) {
          // CONNECT v5, Will Flag + Clean Start, keep-alive 60, no CONNECT properties, client id
          // "w3592", then the will properties under test, will topic "w/t" and payload "x".
          const c = await rawClient(b)
          c.send(
            frame(
              0x10,
              Buffer.from(
                `${mqttString('MQTT')} 05 06 003c 00 ${mqttString('w3592')} ${props} ${mqttString('w/t')} ${mqttString('x')}`.replace(
                  /\s/g,
                  '',
                ),
                'hex',
              ),
            ),
          )
          try {
            await c.waitFor(
              {
                describe: 'close, or CONNACK 0x81/0x82 then close',
                match: (received, closed) => {
                  if (received.length === 0)
                    return closed ? { status: 'match', consumed: 0 } : { status: 'need' }
                  if (received.length < 4)
                    return closed ? { status: 'mismatch', why: 'short' } : { status: 'need' }
                  const rc = received[3]
                  if (received[0] !== 0x20 || (rc !== 0x81 && rc !== 0x82))
                    return { status: 'mismatch', why: `CONNACK reason 0x${(rc ?? 0).toString(16)}` }
                  return closed
                    ? { status: 'match', consumed: received.length }
                    : { status: 'need' }
                },
              },
              1000,
            )
          } catch (err) {
            problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`)
          }
          await c.destroyed()
        }
        assert.deepEqual(problems, [])
      },
    )

    hostile(
      '[CVE-2023-3592] 300 CONNECTs with odd will properties leave memory flat',
      quick,
      async (b) => {
        const before = await b.stats()
        for (let i = 0; i < 300; i++) {
          const c = await rawClient(b)
          c.send(
            encode(
              {
                cmd: 'connect',
                clientId: `will3592-${String(i)}`,
                keepalive: 60,
                clean: true,
                will: {
                  topic: 'w/t',
                  payload: 'x'.repeat(1024),
                  qos: 0,
                  retain: false,
                  properties: {
                    userProperties: { k: 'v'.repeat(1024) },
                    contentType: 'y'.repeat(512),
                  },
                },
              },
              5,
            ),
          )
          await c.readPacket().catch(() => undefined)
          await c.destroyed()
        }
        await delay(200)
        const after = await b.stats()
        assert.ok(
          after.rssBytes - before.rssBytes < 16 * MiB,
          `RSS grew by ${mib(after.rssBytes - before.rssBytes)}`,
        )
        assert.equal(after.sessions, before.sessions, 'no session outlives its clean connection')
      },
    )

    // Mosquitto 2.0.0-2.0.9 dereferenced NULL when a v5 client sent a CONNACK to the broker.
    hostile(
      '[CVE-2021-28166] a CONNACK from a client is a protocol error, before or after CONNECT',
      quick,
      async (b) => {
        const early = await rawClient(b)
        early.send('20 02 00 00')
        await early.expectClosed()
        const v5 = await mqttClient(b, 5, { clientId: 'connack5' })
        v5.send('20 03 00 00 00')
        await v5.expectPacket('e0 xx 82')
        await v5.expectClosed()
        const v4 = await mqttClient(b, 4, { clientId: 'connack4' })
        v4.send('20 02 00 00')
        await v4.expectClosed()
      },
    )

    // Mosquitto <= 2.0.7 crashed on a PUBLISH with a zero-length topic.
    hostile(
      '[CVE-2021-34432] an empty topic, in PUBLISH at any QoS or in a will, is refused',
      quick,
      async (b) => {
        const watcher = await tap(b, 'empty-tap')
        for (const bytes of ['30 03 00 00 61', '32 05 00 00 00 01 61', '34 05 00 00 00 01 61']) {
          const c = await mqttClient(b, 4, { clientId: `empty-v4-${bytes.slice(0, 2)}` })
          c.send(bytes)
          await c.expectClosed()
        }
        const v5 = await mqttClient(b, 5, { clientId: 'empty-v5' })
        v5.send('32 06 00 00 00 01 00 61')
        await v5.expectPacket('e0 xx 82')
        await v5.expectClosed()
        for (const v of [4, 5] as const) {
          const c = await rawClient(b)
          // Will Flag + Clean Session, client id "empty-will", will topic "", payload "x".
          const props = v === 5 ? '00' : ''
          c.send(
            frame(
              0x10,
              Buffer.from(
                `${mqttString('MQTT')}0${String(v)}06003c${props}${mqttString('empty-will')}${props}${mqttString('')}${mqttString('x')}`,
                'hex',
              ),
            ),
          )
          const refused = await c.readPacket().catch(() => undefined)
          if (refused !== undefined)
            assert.ok((refused[3] ?? 0) !== 0, `v${String(v)}: the CONNECT was accepted`)
          await c.expectClosed()
        }
        await watcher.expectNothing(200)
      },
    )

    // Mosquitto <= 1.4.15 passed topics that were not UTF-8 on to subscribers, which then
    // disconnected themselves (CVE-2017-7653).
    hostile(
      '[CVE-2017-7653] a topic that is not UTF-8 closes its publisher and reaches no subscriber',
      quick,
      async (b) => {
        const watcher = await tap(b, 'utf-tap')
        for (const [v, topic] of [
          [4, 'c328'],
          [5, 'eda080'],
          [4, 'c0af'],
          [5, 'f8888080af'],
        ] as const) {
          const c = await mqttClient(b, v, { clientId: `utf-bad-${topic}` })
          const t = Buffer.from(`74${topic}`, 'hex')
          const body = Buffer.concat([
            Buffer.from([0, t.length]),
            t,
            Buffer.from(v === 5 ? '0078' : '78', 'hex'),
          ])
          c.send(Buffer.concat([Buffer.from([0x30, body.length]), body]))
          if (v === 5) await c.expectPacket('e0 xx 81')
          await c.expectClosed()
        }
        await watcher.expectNothing(300)
      },
    )

    // NanoMQ: a WebSocket frame shorter than an MQTT fixed header crashed the broker.
    hostile(
      '[CVE-2026-25627] 1-byte WebSocket frames, alone or carrying a split packet, are just bytes',
      quick,
      async (b) => {
        const short = await openWebSocket(b)
        short.ws.send(Buffer.from([0x10]))
        await delay(100)
        short.ws.terminate()
        const split = await openWebSocket(b)
        const bytes = Buffer.concat([
          connectPacket(4, { clientId: 'ws-split' }),
          subscribe(4, 'ws/x'),
        ])
        for (const byte of bytes) split.ws.send(Buffer.from([byte]))
        await split.client.expect('20 02 00 00 90 03 00 01 00', 2000)
        split.ws.send(Buffer.from([0xc0]))
        split.ws.send(Buffer.from([0x00]))
        await split.client.expect('d0 00')
        await split.client.destroyed()
      },
    )

    // The same listener, [MQTT-6.0.0-1]: "MQTT Control Packets MUST be sent in WebSocket binary
    // data frames. If any other type of data frame is received the recipient MUST close the
    // Network Connection."
    hostile('[MQTT-6.0.0-1] a WebSocket text frame closes the connection', quick, async (b) => {
      const text = await openWebSocket(b)
      text.ws.send(connectPacket(4, { clientId: 'ws-text' }).toString('latin1'))
      await text.client.expectClosed(1000).finally(() => text.ws.terminate())
    })

    // aedes #612, fixed in mqtt-packet #107: a v5 DISCONNECT announcing 32 bytes of properties
    // it does not have made the parser read past its buffer and throw.
    hostile(
      '[aedes#612 / mqtt-packet#107] a DISCONNECT whose properties overrun the packet is refused',
      quick,
      async (b) => {
        const c = await rawClient(b)
        c.send('10 10 00 04 4d 51 54 54 05 02 00 3c 03 21 00 14 00 00 62 02 d3 01 e0 02 00 20')
        await c.expectPacket('20 xx 00 00')
        await c.expectPacket('70 xx d3 01')
        await c.expectPacket('e0 xx 81')
        await c.expectClosed()
      },
    )
  })
}
