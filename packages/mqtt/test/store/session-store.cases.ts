// The example cases of the SessionStore contract; session-store.contract.ts runs them.
import assert from 'node:assert/strict'
import { it, type TestContext } from 'node:test'
import { type Ctx, entry, message, meta, subscription } from './session-store.harness.js'

/** Opens a fresh store for one test and closes it after. */
export type Open = (t: TestContext) => Ctx

export function describeBasics(open: Open): void {
  it('loads nothing from a new store', async (t) => {
    assert.deepEqual(await open(t).reload(), { sessions: [], retained: [] })
  })

  it('round-trips a session with every field and one with none of the optional ones', async (t) => {
    const c = open(t)
    const will = message('will/t', {
      qos: 2,
      retain: true,
      expiresAtMs: 1_700_000_060_000,
      publisherClientId: 'full',
      properties: {
        payloadFormatIndicator: true,
        messageExpiryInterval: 60,
        contentType: 'application/json',
        responseTopic: 'r/t',
        correlationData: new Uint8Array([0, 255, 7]),
        userProperties: [
          ['a', '1'],
          ['10', '2'],
          ['a', '3'],
          ['2', '4'],
        ],
      },
    })
    const full = meta('full', {
      protocolVersion: 4,
      expiryIntervalSec: 0xffffffff,
      disconnectedAtMs: 1_700_000_000_123,
      identityId: 'device:42',
      will: { message: will, publishAtMs: 1_700_000_005_000 },
    })
    c.store.upsertSession(full)
    c.store.upsertSession(meta('bare', { protocolVersion: 3 }))
    const { sessions } = await c.reload()
    const empty = { subscriptions: [], outgoing: [], incomingQos2: [] }
    assert.deepEqual(sessions, [
      { ...meta('bare', { protocolVersion: 3 }), ...empty },
      { ...full, ...empty },
    ])
  })

  it('replaces the session fields on upsert and keeps its subscriptions and messages', async (t) => {
    const c = open(t)
    c.store.upsertSession(
      meta('c', { identityId: 'x', will: { message: message('w'), publishAtMs: 1 } }),
    )
    c.store.putSubscription('c', subscription('a/#'))
    c.store.putOutgoing('c', entry(1, message('a/1')))
    await c.store.flush()
    c.store.upsertSession(meta('c', { disconnectedAtMs: 5 }))
    const [s] = (await c.reload()).sessions
    assert.deepEqual(s, {
      ...meta('c', { disconnectedAtMs: 5 }),
      subscriptions: [subscription('a/#')],
      outgoing: [entry(1, message('a/1'))],
      incomingQos2: [],
    })
  })

  it('puts, replaces and deletes subscriptions by filter', async (t) => {
    const c = open(t)
    c.store.upsertSession(meta('c'))
    c.store.putSubscription('c', subscription('a/#', { subscriptionId: 7, qos: 2 }))
    c.store.putSubscription('c', subscription('b/+', { noLocal: true, retainAsPublished: true }))
    c.store.putSubscription('c', subscription('$share/g/c', { retainHandling: 2 }))
    await c.reopen()
    c.store.putSubscription('c', subscription('a/#', { qos: 0 }))
    c.store.deleteSubscription('c', 'b/+')
    c.store.deleteSubscription('c', 'never/subscribed')
    const [s] = (await c.reload()).sessions
    assert.deepEqual(s?.subscriptions, [
      subscription('$share/g/c', { retainHandling: 2 }),
      subscription('a/#', { qos: 0 }),
    ])
  })

  it('puts, keeps and deletes incoming QoS 2 packet ids', async (t) => {
    const c = open(t)
    c.store.upsertSession(meta('c'))
    for (const id of [9, 1, 65535, 9]) c.store.putIncomingQos2('c', id)
    await c.reopen()
    c.store.deleteIncomingQos2('c', 1)
    c.store.deleteIncomingQos2('c', 2)
    assert.deepEqual((await c.reload()).sessions[0]?.incomingQos2, [9, 65535])
  })

  it('replaces and deletes retained messages by topic', async (t) => {
    const c = open(t)
    c.store.putRetained(message('r/1', { retain: true }))
    c.store.putRetained(message('r/2', { retain: true }))
    await c.reopen()
    const newer = message('r/1', { retain: true, payload: new Uint8Array([1]) })
    c.store.putRetained(newer)
    c.store.deleteRetained('r/2')
    c.store.deleteRetained('r/none')
    assert.deepEqual((await c.reload()).retained, [newer])
  })
}

export function describeOutgoing(open: Open): void {
  it('returns outgoing entries in seq order with every field', async (t) => {
    const c = open(t)
    c.store.upsertSession(meta('c'))
    const m = message('a/1', { properties: { contentType: 'text/plain' } })
    const entries = [
      entry(5, m, { state: 'released', packetId: 3, qos: 2 }),
      entry(2, m, { state: 'inflight', packetId: 65535, retain: true, subscriptionIds: [1, 9] }),
      entry(9, message('a/2', { payload: new Uint8Array() }), { qos: 0, subscriptionIds: [] }),
      entry(3, message('a/3', { payload: new Uint8Array(300_000).fill(7) })),
    ]
    for (const e of entries) c.store.putOutgoing('c', e)
    const [s] = (await c.reload()).sessions
    assert.deepEqual(
      s?.outgoing,
      [...entries].sort((a, b) => a.seq - b.seq),
    )
  })

  it('replaces an entry with the same seq and deletes one', async (t) => {
    const c = open(t)
    c.store.upsertSession(meta('c'))
    const m = message('a/1')
    for (const seq of [1, 2, 3]) c.store.putOutgoing('c', entry(seq, m))
    await c.reopen()
    c.store.putOutgoing('c', entry(1, m, { state: 'inflight', packetId: 1 }))
    await c.store.flush()
    c.store.deleteOutgoing('c', 2)
    c.store.deleteOutgoing('c', 99)
    const [s] = (await c.reload()).sessions
    assert.deepEqual(s?.outgoing, [entry(1, m, { state: 'inflight', packetId: 1 }), entry(3, m)])
  })

  it('writes nothing for a put and delete of the same key in one batch', async (t) => {
    const c = open(t)
    c.store.upsertSession(meta('c'))
    await c.store.flush()
    c.store.putOutgoing('c', entry(1, message('a/1')))
    c.store.putIncomingQos2('c', 7)
    c.store.deleteOutgoing('c', 1)
    c.store.deleteIncomingQos2('c', 7)
    assert.deepEqual((await c.reload()).sessions[0], {
      ...meta('c'),
      subscriptions: [],
      outgoing: [],
      incomingQos2: [],
    })
    await c.assertMessageRows(0)
  })

  it('deletes a put that an earlier batch stored, in the same batch as a new put', async (t) => {
    const c = open(t)
    c.store.upsertSession(meta('c'))
    const m = message('a/1')
    for (const seq of [1, 2, 3]) c.store.putOutgoing('c', entry(seq, m))
    c.store.putIncomingQos2('c', 7)
    await c.store.flush()
    for (const seq of [3, 2, 1]) {
      c.store.putOutgoing('c', entry(seq, m, { state: 'inflight', packetId: seq }))
      c.store.deleteOutgoing('c', seq)
    }
    c.store.putIncomingQos2('c', 7)
    c.store.deleteIncomingQos2('c', 7)
    const [s] = (await c.reload()).sessions
    assert.deepEqual([s?.outgoing, s?.incomingQos2], [[], []])
    await c.assertMessageRows(0)
  })

  it('stores a message fanned out to 1000 sessions once', async (t) => {
    const c = open(t)
    const m = message('fan/out', { payload: new Uint8Array(1000).fill(1) })
    for (let i = 0; i < 1000; i++) {
      c.store.upsertSession(meta(`c${String(i)}`))
      c.store.putOutgoing(`c${String(i)}`, entry(1, m))
    }
    c.store.putRetained(m)
    await c.assertMessageRows(1)
    const { sessions, retained } = await c.reload()
    assert.equal(sessions.length, 1000)
    const loaded = new Set([...sessions.map((s) => s.outgoing[0]?.message), retained[0]])
    assert.equal(loaded.size, 1, 'one message object shared by every entry')
    assert.deepEqual([...loaded][0], m)
  })
}

export function describeLifecycle(open: Open): void {
  it('deletes a session with its subscriptions, messages and packet ids', async (t) => {
    const c = open(t)
    for (const id of ['gone', 'kept']) {
      c.store.upsertSession(meta(id, { will: { message: message(`w/${id}`), publishAtMs: 1 } }))
      c.store.putSubscription(id, subscription('a/#'))
      c.store.putOutgoing(id, entry(1, message(`a/${id}`)))
      c.store.putIncomingQos2(id, 1)
    }
    c.store.putRetained(message('r'))
    await c.reopen()
    c.store.deleteSession('gone')
    c.store.deleteSession('never-existed')
    const { sessions, retained } = await c.reload()
    assert.deepEqual(
      sessions.map((s) => s.clientId),
      ['kept'],
    )
    assert.deepEqual(retained, [message('r')])
    await c.assertMessageRows(3, 'the deleted session’s message and will are gone')
    c.store.upsertSession(meta('gone'))
    assert.deepEqual((await c.reload()).sessions[0], {
      ...meta('gone'),
      subscriptions: [],
      outgoing: [],
      incomingQos2: [],
    })
  })

  it('refuses parts of a session that does not exist and ignores deletes of them', async (t) => {
    const c = open(t)
    const code = { code: 'MQTT_STORE_NO_SESSION' }
    assert.throws(() => c.store.putSubscription('x', subscription('a')), code)
    assert.throws(() => c.store.putOutgoing('x', entry(1, message('a'))), code)
    assert.throws(() => c.store.putIncomingQos2('x', 1), code)
    c.store.deleteSubscription('x', 'a')
    c.store.deleteOutgoing('x', 1)
    c.store.deleteIncomingQos2('x', 1)
    c.store.upsertSession(meta('x'))
    c.store.deleteSession('x')
    assert.throws(() => c.store.putOutgoing('x', entry(1, message('a'))), code)
    assert.deepEqual(await c.reload(), { sessions: [], retained: [] })
  })

  it('returns a session that was connected when the process died as it is', async (t) => {
    const c = open(t)
    c.store.upsertSession(meta('online'))
    const [s] = (await c.reload()).sessions
    assert.equal(s !== undefined && 'disconnectedAtMs' in s, false)
  })

  it('closes idempotently, flushing first, and refuses writes afterwards', async (t) => {
    const c = open(t)
    c.store.upsertSession(meta('c'))
    await Promise.all([c.store.close(), c.store.close()])
    await c.store.close()
    await c.store.flush()
    assert.throws(() => c.store.upsertSession(meta('d')), { code: 'MQTT_STORE_CLOSED' })
    await assert.rejects(c.store.load(), { code: 'MQTT_STORE_CLOSED' })
    if (!c.persistent) return
    await c.reopen()
    assert.deepEqual(
      (await c.store.load()).sessions.map((s) => s.clientId),
      ['c'],
    )
  })
}
