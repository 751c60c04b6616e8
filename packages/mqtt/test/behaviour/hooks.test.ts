import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { IDisconnectPacket } from 'mqtt'
import type { BrokerMessage, ClientInfo, ConnectContext } from '../../src/index.js'
import {
  closedWithin,
  connect,
  connectAck,
  eventually,
  inboxOf,
  nextEvent,
  numbered,
  rawConnect,
  rawSocket,
  sleep,
  startBroker,
  subscribeCodes,
  testTimeoutMs,
  tryConnect,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('hooks', { concurrency: true }, () => {
  describe('authenticate', { concurrency: true }, () => {
    // MQTT 5 reason code → MQTT 3.1.1 return code (§3.2.2.3).
    const refusals: [number, number][] = [
      [0x86, 4], // bad user name or password
      [0x87, 5], // not authorized
      [0x85, 2], // client identifier not valid
      [0x89, 3], // server busy → server unavailable
      [0x8c, 4], // bad authentication method
    ]

    it(
      'refuses with the reason code authenticate returns, mapped to 3.1.1 return codes',
      opts,
      async (t) => {
        const b = await startBroker(t, {
          hooks: {
            authenticate: (c) => ({
              ok: false,
              reasonCode: Number.parseInt(c.username ?? '0', 16),
            }),
          },
        })
        for (const [code, v3] of refusals) {
          const username = code.toString(16)
          const five = await tryConnect(b.url, { protocolVersion: 5, username })
          assert.equal(five.client, undefined)
          assert.equal(five.error?.code, code, `MQTT 5 CONNACK for 0x${username}`)
          const four = await tryConnect(b.url, { protocolVersion: 4, username })
          assert.equal(four.client, undefined)
          assert.equal(four.error?.code, v3, `3.1.1 CONNACK for 0x${username}`)
        }
        assert.equal(b.broker.metrics.authFailures, refusals.length * 2)
      },
    )

    it('refuses with 0x80 when authenticate throws, and keeps serving', opts, async (t) => {
      const b = await startBroker(t, {
        hooks: {
          authenticate: (c) => {
            if (c.username === 'boom') throw new Error('database down')
            return { ok: true, identity: { id: c.clientId } }
          },
        },
      })
      const failed = await tryConnect(b.url, { protocolVersion: 5, username: 'boom' })
      assert.equal(failed.error?.code, 0x80)
      await connect(t, b.url, { protocolVersion: 5, username: 'fine' })
    })

    it('refuses MQTT 5 enhanced authentication it does not support with 0x8C', opts, async (t) => {
      let asked = 0
      const b = await startBroker(t, {
        hooks: {
          authenticate: (c) => {
            asked++
            return { ok: true, identity: { id: c.clientId } }
          },
        },
      })
      const outcome = await tryConnect(b.url, {
        protocolVersion: 5,
        properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from('x') },
      })
      assert.equal(outcome.error?.code, 0x8c)
      assert.equal(asked, 0)
    })

    it(
      'shows authenticate the client id, credentials, version, address and listener',
      opts,
      async (t) => {
        const seen: ConnectContext[] = []
        const b = await startBroker(t, {
          hooks: {
            authenticate: (c) => {
              seen.push(c)
              return { ok: true, identity: { id: 'x' } }
            },
          },
        })
        await connect(t, b.url, {
          protocolVersion: 4,
          clientId: 'dev-4',
          username: 'alice',
          password: Buffer.from('s3cret'),
        })
        await connect(t, b.url, { protocolVersion: 5, clientId: 'dev-5' })
        assert.equal(seen.length, 2)
        const [four, five] = seen
        assert.equal(four?.clientId, 'dev-4')
        assert.equal(four.protocolVersion, 4)
        assert.equal(four.username, 'alice')
        assert.equal(Buffer.from(four.password ?? []).toString(), 's3cret')
        assert.equal(four.remoteAddress, '127.0.0.1')
        assert.equal(four.listener, b.url)
        assert.equal(four.tls, undefined)
        assert.equal(five?.protocolVersion, 5)
        assert.equal(five.username, undefined)
      },
    )

    it('holds packets sent before CONNACK until an async authenticate answers', opts, async (t) => {
      const b = await startBroker(t, {
        hooks: {
          authenticate: async (c) => {
            await sleep(150)
            return { ok: true, identity: { id: c.clientId } }
          },
        },
      })
      const sub = await connect(t, b.url, { protocolVersion: 5 })
      await sub.subscribeAsync('early/t', { qos: 1 })
      const raw = await rawSocket(t, b.port, 5)
      // CONNECT and PUBLISH back to back, before any CONNACK [MQTT-3.1.4-5].
      raw.send({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clientId: 'eager',
        clean: true,
        keepalive: 0,
      })
      raw.publish('early/t', 'before connack', 1, 1)
      assert.equal((await raw.next('connack')).reasonCode, 0)
      assert.equal((await raw.next('puback')).messageId, 1)
      assert.deepEqual(
        (await inboxOf(sub).waitFor(1)).map((m) => m.payload),
        ['before connack'],
      )
    })
  })

  describe('authorizePublish', { concurrency: true }, () => {
    const denyLocked = {
      authorizePublish: (_c: ClientInfo, topic: string) =>
        topic.startsWith('locked/') ? ({ allowed: false } as const) : ({ allowed: true } as const),
    }

    it('answers a refused MQTT 5 PUBLISH with 0x87 and does not route it', opts, async (t) => {
      const b = await startBroker(t, { hooks: denyLocked })
      const sub = await connect(t, b.url, { protocolVersion: 5 })
      await sub.subscribeAsync('#', { qos: 2 })
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      await assert.rejects(pub.publishAsync('locked/a', 'q1', { qos: 1 }), { code: 0x87 })
      await assert.rejects(pub.publishAsync('locked/a', 'q2', { qos: 2 }), { code: 0x87 })
      pub.publish('locked/a', 'q0', { qos: 0 })
      await pub.publishAsync('open/a', 'allowed', { qos: 1 })
      assert.deepEqual(
        (await inboxOf(sub).settle(300)).map((m) => m.payload),
        ['allowed'],
      )
      assert.equal(pub.connected, true, 'the connection stays')
      assert.equal(b.broker.metrics.publishDenied, 3)
    })

    it('passes through a custom refusal reason code', opts, async (t) => {
      const b = await startBroker(t, {
        hooks: { authorizePublish: () => ({ allowed: false, reasonCode: 0x97 }) },
      })
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      await assert.rejects(pub.publishAsync('any/t', 'x', { qos: 1 }), { code: 0x97 })
    })

    it(
      'closes a 3.1.1 connection whose PUBLISH is refused (deniedPublishV3: disconnect, the default)',
      opts,
      async (t) => {
        const b = await startBroker(t, { hooks: denyLocked })
        const sub = await connect(t, b.url, { protocolVersion: 4 })
        await sub.subscribeAsync('#', { qos: 1 })
        const pub = await connect(t, b.url, { protocolVersion: 4 })
        pub.on('error', () => undefined)
        const closed = closedWithin(pub)
        pub.publish('locked/a', 'x', { qos: 1 })
        await closed
        assert.deepEqual(await inboxOf(sub).settle(200), [])
      },
    )

    it(
      'acknowledges and drops a refused 3.1.1 PUBLISH with deniedPublishV3: drop',
      opts,
      async (t) => {
        const b = await startBroker(t, { hooks: denyLocked, settings: { deniedPublishV3: 'drop' } })
        const sub = await connect(t, b.url, { protocolVersion: 4 })
        await sub.subscribeAsync('#', { qos: 1 })
        const pub = await connect(t, b.url, { protocolVersion: 4 })
        await pub.publishAsync('locked/a', 'dropped', { qos: 1 })
        await pub.publishAsync('locked/a', 'dropped', { qos: 2 })
        await pub.publishAsync('open/a', 'kept', { qos: 1 })
        assert.deepEqual(
          (await inboxOf(sub).settle(300)).map((m) => m.payload),
          ['kept'],
        )
        assert.equal(pub.connected, true)
      },
    )

    it('asks with the client, topic, QoS and retain flag', opts, async (t) => {
      const asked: string[] = []
      const b = await startBroker(t, {
        hooks: {
          authorizePublish: (c, topic, qos, retain) => {
            asked.push(`${c.clientId}/${c.identity.id}:${topic}:${String(qos)}:${String(retain)}`)
            return { allowed: true }
          },
        },
      })
      const pub = await connect(t, b.url, { protocolVersion: 5, clientId: 'c1', username: 'u1' })
      await pub.publishAsync('a/b', 'x', { qos: 2, retain: true })
      assert.deepEqual(asked, ['c1/u1:a/b:2:true'])
    })
  })

  describe('authorizeSubscribe', { concurrency: true }, () => {
    const hooks = {
      authorizeSubscribe: (_c: ClientInfo, filter: string) =>
        filter.includes('secret')
          ? ({ allowed: false } as const)
          : filter.startsWith('$share/')
            ? ({ allowed: false, reasonCode: 0x9e } as const)
            : ({ allowed: true } as const),
    }

    for (const protocolVersion of [4, 5] as const) {
      it(
        `refuses just the refused filters of a SUBSCRIBE (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`,
        opts,
        async (t) => {
          const b = await startBroker(t, { hooks })
          const sub = await connect(t, b.url, { protocolVersion })
          const codes = await subscribeCodes(sub, {
            'pub/1': { qos: 1 },
            'secret/#': { qos: 1 },
            '$share/g/pub/#': { qos: 0 },
            'pub/2': { qos: 2 },
          })
          assert.deepEqual(codes, protocolVersion === 5 ? [1, 0x87, 0x9e, 2] : [1, 0x80, 0x80, 2])
          const pub = await connect(t, b.url, { protocolVersion })
          await pub.publishAsync('secret/x', 'hidden', { qos: 1 })
          await pub.publishAsync('pub/1', 'visible', { qos: 1 })
          assert.deepEqual(
            (await inboxOf(sub).settle(300)).map((m) => m.payload),
            ['visible'],
          )
          assert.equal(b.broker.metrics.subscribeDenied, 2)
        },
      )
    }

    it('grants no more than the QoS the hook allows, and delivers at it', opts, async (t) => {
      const b = await startBroker(t, {
        hooks: {
          authorizeSubscribe: (_c: ClientInfo, filter: string) =>
            filter.startsWith('capped/') ? { allowed: true, maxQos: 1 } : { allowed: true },
        },
      })
      const sub = await connect(t, b.url, { protocolVersion: 5 })
      const codes = await subscribeCodes(sub, {
        'capped/#': { qos: 2 },
        'free/#': { qos: 2 },
      })
      assert.deepEqual(codes, [1, 2])
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      await pub.publishAsync('capped/x', 'c', { qos: 2 })
      const [m] = await inboxOf(sub).settle(300)
      assert.equal(m?.packet.qos, 1)
    })
  })

  describe('onPublish', { concurrency: true }, () => {
    it(
      'sees every message a client publishes, with its properties and publisher',
      opts,
      async (t) => {
        const seen: { client: ClientInfo; message: BrokerMessage }[] = []
        const b = await startBroker(t, {
          hooks: { onPublish: (client, message) => void seen.push({ client, message }) },
        })
        const pub = await connect(t, b.url, {
          protocolVersion: 5,
          clientId: 'publisher',
          username: 'dev',
        })
        await pub.publishAsync('tel/a', 'zero', { qos: 0 })
        await pub.publishAsync('tel/b', 'one', { qos: 1, retain: true })
        await pub.publishAsync('tel/c', 'two', {
          qos: 2,
          properties: { contentType: 'text/plain', userProperties: { k: 'v' } },
        })
        await eventually(() => seen.length === 3, 1_000, 'three messages seen')
        assert.deepEqual(
          seen.map(({ message: m }) => [
            m.topic,
            Buffer.from(m.payload).toString(),
            m.qos,
            m.retain,
          ]),
          [
            ['tel/a', 'zero', 0, false],
            ['tel/b', 'one', 1, true],
            ['tel/c', 'two', 2, false],
          ],
        )
        assert.equal(seen[2]?.message.properties.contentType, 'text/plain')
        assert.equal(seen[0]?.message.publisherClientId, 'publisher')
        assert.equal(seen[0].client.identity.id, 'dev')
      },
    )

    for (const protocolVersion of [4, 5] as const) {
      it(
        `refuses a message for which onPublish returns 0x99 (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`,
        opts,
        async (t) => {
          const b = await startBroker(t, {
            hooks: {
              onPublish: (_c, m) =>
                Buffer.from(m.payload).toString() === 'bad' ? 0x99 : undefined,
            },
          })
          const sub = await connect(t, b.url, { protocolVersion: 5 })
          await sub.subscribeAsync('val/#', { qos: 1 })
          const pub = await connect(t, b.url, { protocolVersion })
          if (protocolVersion === 5) {
            await assert.rejects(pub.publishAsync('val/t', 'bad', { qos: 1 }), { code: 0x99 })
          } else {
            await pub.publishAsync('val/t', 'bad', { qos: 1 }) // 3.1.1: acknowledged and dropped
          }
          await pub.publishAsync('val/t', 'good', { qos: 1 })
          assert.deepEqual(
            (await inboxOf(sub).settle(300)).map((m) => m.payload),
            ['good'],
          )
        },
      )
    }

    it('holds the PUBACK until an asynchronous onPublish resolves', opts, async (t) => {
      let release: () => void = () => undefined
      const b = await startBroker(t, {
        hooks: {
          onPublish: () =>
            new Promise<undefined>((resolve) => {
              release = () => resolve(undefined)
            }),
        },
      })
      t.after(() => release())
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      let acked = false
      const publishing = pub.publishAsync('slow/t', 'x', { qos: 1 }).then(() => (acked = true))
      await sleep(300)
      assert.equal(acked, false, 'no PUBACK while the hook is pending')
      release()
      await publishing
      assert.equal(acked, true)
    })

    it(
      'keeps routing and acknowledgement order when onPublish answers out of order',
      opts,
      async (t) => {
        const b = await startBroker(t, {
          hooks: {
            // Earlier messages take longer: the hook resolves in reverse order.
            onPublish: async (_c, m) => {
              const n = Number(Buffer.from(m.payload).toString().slice(1))
              await sleep((10 - n) * 20)
              return undefined
            },
          },
        })
        const sub = await connect(t, b.url, { protocolVersion: 5 })
        await sub.subscribeAsync('ooo/t', { qos: 1 })
        const { client: raw } = await rawConnect(t, b.port, { protocolVersion: 5 })
        const sent = numbered(10)
        for (const [i, payload] of sent.entries()) raw.publish('ooo/t', payload, 1, i + 1)
        const acks: number[] = []
        for (let i = 0; i < 10; i++) acks.push((await raw.next('puback')).messageId ?? -1)
        assert.deepEqual(acks, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], '[MQTT-4.6.0-2] PUBACKs in order')
        assert.deepEqual(
          (await inboxOf(sub).waitFor(10)).map((m) => m.payload),
          sent,
          '[MQTT-4.6.0-5]',
        )
      },
    )

    it('is not asked about messages the authoriser refused', opts, async (t) => {
      const seen: string[] = []
      const b = await startBroker(t, {
        hooks: {
          authorizePublish: (_c, topic) => ({ allowed: topic !== 'no' }),
          onPublish: (_c, m) => void seen.push(m.topic),
        },
      })
      const pub = await connect(t, b.url, { protocolVersion: 5 })
      await assert.rejects(pub.publishAsync('no', 'x', { qos: 1 }))
      await pub.publishAsync('yes', 'x', { qos: 1 })
      assert.deepEqual(seen, ['yes'])
    })
  })

  describe('onConnect and onDisconnect', { concurrency: true }, () => {
    it('reports a session beginning and each way a connection ends', opts, async (t) => {
      const events: string[] = []
      const b = await startBroker(t, {
        hooks: {
          authenticate: (c) =>
            c.username === 'nope'
              ? { ok: false, reasonCode: 0x87 }
              : { ok: true, identity: { id: `id-${c.clientId}` } },
          onConnect: (c) =>
            events.push(`connect ${c.clientId} ${c.identity.id} v${String(c.protocolVersion)}`),
          onDisconnect: (c, why) => events.push(`disconnect ${c.clientId}: ${why}`),
        },
      })
      const polite = await connect(t, b.url, { protocolVersion: 5, clientId: 'polite' })
      assert.deepEqual(events, ['connect polite id-polite v5'])
      await polite.endAsync()
      const rude = await connect(t, b.url, { protocolVersion: 4, clientId: 'rude' })
      rude.stream.destroy()
      await tryConnect(b.url, { protocolVersion: 5, clientId: 'refused', username: 'nope' })
      await eventually(
        () => events.length === 4,
        1_000,
        () => events.join('; '),
      )
      assert.equal(events[1]?.startsWith('disconnect polite: '), true)
      assert.equal(events[2], 'connect rude id-rude v4')
      assert.equal(events[3]?.startsWith('disconnect rude: '), true)
      assert.ok(!events.some((e) => e.includes('refused')), 'nothing for a refused client')
    })

    it('reports the end of a connection that another one took over', opts, async (t) => {
      const events: string[] = []
      const b = await startBroker(t, {
        hooks: {
          onConnect: (c) => events.push(`connect ${c.clientId}`),
          onDisconnect: (c) => events.push(`disconnect ${c.clientId}`),
        },
      })
      const first = await connect(t, b.url, { protocolVersion: 5, clientId: 'twin' })
      first.on('error', () => undefined)
      await connect(t, b.url, { protocolVersion: 5, clientId: 'twin' })
      await closedWithin(first)
      // Connects and disconnects must pair up, or a presence count built on them drifts.
      await eventually(
        () => events.length >= 3,
        1_000,
        () => events.join('; '),
      )
      assert.deepEqual(events, ['connect twin', 'disconnect twin', 'connect twin'])
    })
  })

  describe('disconnectIdentity', { concurrency: true }, () => {
    it('cuts every connection of an identity at once and leaves the others', opts, async (t) => {
      const ended: string[] = []
      const b = await startBroker(t, {
        hooks: { onDisconnect: (c) => ended.push(c.clientId) },
      })
      const fleet = [
        await connect(t, b.url, { protocolVersion: 5, clientId: 'f1', username: 'fleet' }),
        await connect(t, b.url, { protocolVersion: 5, clientId: 'f2', username: 'fleet' }),
        await connect(t, b.url, { protocolVersion: 4, clientId: 'f3', username: 'fleet' }),
      ]
      const bystander = await connect(t, b.url, {
        protocolVersion: 5,
        clientId: 'other',
        username: 'other',
      })
      const disconnects = fleet
        .slice(0, 2)
        .map((c) => nextEvent<IDisconnectPacket>(c, 'disconnect'))
      const closes = fleet.map((c) => closedWithin(c))
      assert.equal(b.broker.disconnectIdentity('fleet'), 3)
      for (const d of await Promise.all(disconnects)) assert.equal(d.reasonCode, 0x98)
      await Promise.all(closes)
      await eventually(() => ended.length === 3, 1_000, 'onDisconnect for each')
      assert.deepEqual([...ended].sort(), ['f1', 'f2', 'f3'])
      assert.equal(bystander.connected, true)
      assert.equal(b.broker.connectionCount, 1)
      assert.equal(b.broker.disconnectIdentity('nobody'), 0)
    })

    it('discards the identity sessions when asked to', opts, async (t) => {
      const b = await startBroker(t)
      const session = {
        protocolVersion: 5,
        clientId: 'revoked-dev',
        username: 'revoked',
        clean: false,
        properties: { sessionExpiryInterval: 600 },
      } as const
      const client = await connect(t, b.url, session)
      client.on('error', () => undefined)
      await client.subscribeAsync('cmd/revoked', { qos: 1 })
      const closed = closedWithin(client)
      b.broker.disconnectIdentity('revoked', { discardSessions: true })
      await closed
      assert.equal(b.broker.sessionCount, 0)
      const again = await connectAck(t, b.url, session)
      assert.equal(again.connack.sessionPresent, false)
    })
  })
})
