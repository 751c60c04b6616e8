/**
 * Published broker vulnerabilities where state outlived a permission or a client pinned a
 * connection, replayed against our broker. Each test is named after its CVE.
 */
import assert from 'node:assert/strict'
import { describe } from 'node:test'
import { connackPrefix, connectPacket } from '../conformance/packets.js'
import { type BrokerSlot, hostile, mqttClient, rawClient } from './brokers.js'
import { delay, publishQos1, subscribe } from './attack-helpers.js'

export function describeRevokedAndPinned(slots: {
  readonly quick: BrokerSlot
  readonly boundedKeepAlive: BrokerSlot
}): void {
  const { quick, boundedKeepAlive } = slots
  describe('revoked permissions and pinned connections, replayed', () => {
    // Mosquitto 2.0.0-2.0.11 (dynamic security): a durable client whose subscribe permission was
    // revoked while it was offline kept its subscription, and got the messages, after reconnecting.
    hostile(
      '[CVE-2021-34434] a persistent subscription is not delivered after its permission is revoked',
      quick,
      async (b) => {
        for (const v of [4, 5] as const) {
          const id = `revoke-hook-v${String(v)}`
          const topic = `secret/hook/${String(v)}`
          const session = {
            clientId: id,
            clean: false,
            ...(v === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
          }
          const x = await mqttClient(b, v, session)
          x.send(subscribe(v, topic, 1))
          await x.expectPacket('90')
          x.send(v === 4 ? 'e0 00' : 'e0 01 00')
          await x.expectClosed()
          await b.request({ type: 'deny-subscribe', filter: topic })
          await publishQos1(b, `revoke-hook-pub-${String(v)}`, topic, 'after revocation')
          const back = await rawClient(b)
          back.send(connectPacket(v, session))
          await back.expectPacket('20')
          await back.expectNothing(500).catch((err: unknown) => {
            throw new Error(
              `v${String(v)}: the revoked subscription still delivered: ${err instanceof Error ? err.message : String(err)}`,
            )
          })
        }
      },
    )

    hostile(
      '[CVE-2021-34434] disconnectIdentity with discardSessions ends the subscription for good',
      quick,
      async (b) => {
        for (const v of [4, 5] as const) {
          const id = `revoke-admin-v${String(v)}`
          const topic = `secret/admin/${String(v)}`
          const session = {
            clientId: id,
            clean: false,
            ...(v === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
          }
          const x = await mqttClient(b, v, session)
          x.send(subscribe(v, topic, 1))
          await x.expectPacket('90')
          await b.request({ type: 'deny-subscribe', filter: topic })
          const cut = await b.request({
            type: 'disconnect-identity',
            identity: id,
            discardSessions: true,
          })
          assert.equal(cut, 1)
          if (v === 5) await x.expectPacket('e0 xx 98')
          await x.expectClosed()
          await publishQos1(b, `revoke-admin-pub-${String(v)}`, topic, 'after revocation')
          const back = await mqttClient(b, v, session, false)
          await back.expectNothing(300)
          back.send(subscribe(v, topic, 1, 2))
          if (v === 4) await back.expect('90 03 00 02 80')
          else await back.expectPacket('90 xx 00 02 * 87 $')
        }
      },
    )

    // Mosquitto <= 1.5.5: a retained message outlived its publisher's revoked permission and
    // kept reaching new subscribers (fixed with the opt-in check_retain_source).
    hostile(
      '[CVE-2018-12546] a retained message from a publisher whose permission was revoked is not delivered',
      quick,
      async (b) => {
        await publishQos1(b, 'retain-src', 'ctl/door', 'open', true)
        await b.request({ type: 'deny-publish', topic: 'ctl/door' })
        await b.request({
          type: 'disconnect-identity',
          identity: 'retain-src',
          discardSessions: true,
        })
        const s = await mqttClient(b, 4, { clientId: 'retain-reader' })
        s.send(subscribe(4, 'ctl/door'))
        await s.expect('90 03 00 01 00')
        await s.expectNothing(300)
      },
    )

    // MQTT keep-alive lets a client hold a connection 1.5 x 65,535 s without a byte; many such
    // clients that also stop reading pin sockets and buffers (CVE-2020-13849, answered in
    // Mosquitto by max_keepalive). With limits.maxKeepAliveSec = 1 they must all be cut.
    hostile(
      '[CVE-2020-13849] clients asking keep-alive 65535 that stop reading are cut at the bound',
      boundedKeepAlive,
      async (b) => {
        const before = await b.stats()
        for (let i = 0; i < 40; i++) {
          const v = i % 2 === 0 ? 4 : 5
          const c = await rawClient(b)
          c.send(connectPacket(v, { clientId: `pin-${String(i)}`, keepalive: 65535 }))
          // v5: the CONNACK must carry Server Keep Alive 1 (0x13 00 01) [MQTT-3.2.2-21].
          await c.expectPacket(v === 4 ? connackPrefix(4, false) : '20 xx 00 00 * 13 00 01')
          // From now on the client neither sends nor reads: only the broker's timer can end it.
          c.socket.pause()
        }
        const started = Date.now()
        const pinned = async () => (await b.stats()).connections - before.connections
        assert.equal(await pinned(), 40)
        while ((await pinned()) > 0 && Date.now() - started < 4000) await delay(100)
        assert.equal(
          await pinned(),
          0,
          `connections still open ${String(Date.now() - started)} ms later`,
        )
      },
    )
  })
}
