// A reference model of SessionStore and random operations on it, for the contract's property test.
import fc from 'fast-check'
import type { BrokerMessage, MessageProperties } from '../../src/message.js'
import type {
  OutgoingEntry,
  SessionMeta,
  SessionStore,
  StoredSession,
} from '../../src/store/session-store.js'
import type { Subscription } from '../../src/topics/subscription.js'

export type Op =
  | { kind: 'upsertSession'; meta: SessionMeta }
  | { kind: 'deleteSession'; clientId: string }
  | { kind: 'putSubscription'; clientId: string; subscription: Subscription }
  | { kind: 'deleteSubscription'; clientId: string; filter: string }
  | { kind: 'putOutgoing'; clientId: string; entry: OutgoingEntry }
  | { kind: 'deleteOutgoing'; clientId: string; seq: number }
  | { kind: 'putIncomingQos2'; clientId: string; packetId: number }
  | { kind: 'deleteIncomingQos2'; clientId: string; packetId: number }
  | { kind: 'putRetained'; message: BrokerMessage }
  | { kind: 'deleteRetained'; topic: string }
  | { kind: 'flush' }
  | { kind: 'reopen' }

interface ModelSession {
  meta: SessionMeta
  subs: Map<string, Subscription>
  out: Map<number, OutgoingEntry>
  qos2: Set<number>
}

/** The obvious implementation: what load() must return after the same writes. */
export class Model {
  readonly sessions = new Map<string, ModelSession>()
  readonly retained = new Map<string, BrokerMessage>()

  /** Applies a write; 'no-session' when the store must refuse it with MQTT_STORE_NO_SESSION. */
  apply(op: Op): 'ok' | 'no-session' {
    if (op.kind === 'upsertSession') {
      const s = this.sessions.get(op.meta.clientId)
      if (s) s.meta = op.meta
      else this.sessions.set(op.meta.clientId, emptySession(op.meta))
      return 'ok'
    }
    if (op.kind === 'deleteSession') return (this.sessions.delete(op.clientId), 'ok')
    if (op.kind === 'putRetained') return (this.retained.set(op.message.topic, op.message), 'ok')
    if (op.kind === 'deleteRetained') return (this.retained.delete(op.topic), 'ok')
    if (op.kind === 'flush' || op.kind === 'reopen') return 'ok'
    const s = this.sessions.get(op.clientId)
    if (s === undefined) return op.kind.startsWith('put') ? 'no-session' : 'ok'
    if (op.kind === 'putSubscription') s.subs.set(op.subscription.filter, op.subscription)
    if (op.kind === 'deleteSubscription') s.subs.delete(op.filter)
    if (op.kind === 'putOutgoing') s.out.set(op.entry.seq, op.entry)
    if (op.kind === 'deleteOutgoing') s.out.delete(op.seq)
    if (op.kind === 'putIncomingQos2') s.qos2.add(op.packetId)
    if (op.kind === 'deleteIncomingQos2') s.qos2.delete(op.packetId)
    return 'ok'
  }

  /** What load() returns, normalised. */
  expected(): Loaded {
    return normalise({
      sessions: [...this.sessions.values()].map((s) => ({
        ...s.meta,
        subscriptions: [...s.subs.values()],
        outgoing: [...s.out.values()].sort((a, b) => a.seq - b.seq),
        incomingQos2: [...s.qos2],
      })),
      retained: [...this.retained.values()],
    })
  }
}

function emptySession(meta: SessionMeta): ModelSession {
  return { meta, subs: new Map(), out: new Map(), qos2: new Set() }
}

export interface Loaded {
  sessions: StoredSession[]
  retained: BrokerMessage[]
}

/** Sorts what has no defined order (sessions, subscriptions, packet ids, retained). */
export function normalise(loaded: Loaded): Loaded {
  const byKey =
    <T>(key: (x: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : 1
  return {
    sessions: loaded.sessions
      .map((s) => ({
        ...s,
        subscriptions: [...s.subscriptions].sort(byKey((x) => x.filter)),
        incomingQos2: [...s.incomingQos2].sort((a, b) => a - b),
      }))
      .sort(byKey((s) => s.clientId)),
    retained: [...loaded.retained].sort(byKey((m) => m.topic)),
  }
}

/** Calls the store method an op names. */
export function applyToStore(store: SessionStore, op: Op): void {
  switch (op.kind) {
    case 'upsertSession':
      return store.upsertSession(op.meta)
    case 'deleteSession':
      return store.deleteSession(op.clientId)
    case 'putSubscription':
      return store.putSubscription(op.clientId, op.subscription)
    case 'deleteSubscription':
      return store.deleteSubscription(op.clientId, op.filter)
    case 'putOutgoing':
      return store.putOutgoing(op.clientId, op.entry)
    case 'deleteOutgoing':
      return store.deleteOutgoing(op.clientId, op.seq)
    case 'putIncomingQos2':
      return store.putIncomingQos2(op.clientId, op.packetId)
    case 'deleteIncomingQos2':
      return store.deleteIncomingQos2(op.clientId, op.packetId)
    case 'putRetained':
      return store.putRetained(op.message)
    case 'deleteRetained':
      return store.deleteRetained(op.topic)
    case 'flush':
    case 'reopen':
      return
  }
}

const optional = { requiredKeys: [] as never[], noNullPrototype: true }
const bytes = fc.uint8Array({ maxLength: 24 }).map((b) => new Uint8Array(b))
const text = fc.string({ maxLength: 8, unit: 'grapheme' })
const time = fc.integer({ min: 0, max: 2 ** 45 })

export const properties: fc.Arbitrary<MessageProperties> = fc.record(
  {
    payloadFormatIndicator: fc.boolean(),
    messageExpiryInterval: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    contentType: text,
    responseTopic: text,
    correlationData: bytes,
    // Names repeat and may be integer-like: the order must survive [MQTT-3.3.2-18].
    userProperties: fc.array(fc.tuple(fc.oneof(text, fc.constantFrom('2', '10')), text), {
      maxLength: 4,
    }),
  },
  optional,
)

export const message: fc.Arbitrary<BrokerMessage> = fc
  .record(
    {
      topic: fc.constantFrom('t/1', 't/2', 't/3'),
      payload: bytes,
      qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
      retain: fc.boolean(),
      properties,
      createdAtMs: time,
      expiresAtMs: fc.option(time, { nil: undefined }),
      publisherClientId: fc.option(text, { nil: undefined }),
    },
    { noNullPrototype: true },
  )
  .map(({ expiresAtMs, publisherClientId, ...m }) => ({
    ...m,
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
    ...(publisherClientId === undefined ? {} : { publisherClientId }),
  }))

export const clientId = fc.constantFrom('a', 'b')

const qos = fc.constantFrom(0 as const, 1 as const, 2 as const)

/**
 * Random writes over two clients, seqs 0..3 and packet ids 1..2, so keys collide often; some come
 * as a put directly followed by a delete of the same key (the pair a batch cancels).
 */
function op(pool: readonly BrokerMessage[]): fc.Arbitrary<Op[]> {
  const pick = fc.constantFrom(...pool)
  const meta = fc.record(
    {
      clientId,
      protocolVersion: fc.constantFrom(3 as const, 4 as const, 5 as const),
      expiryIntervalSec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      disconnectedAtMs: time,
      identityId: text,
      will: fc.record({ message: pick, publishAtMs: time }, { noNullPrototype: true }),
    },
    { requiredKeys: ['clientId', 'protocolVersion', 'expiryIntervalSec'], noNullPrototype: true },
  )
  const subscription = fc.record(
    {
      filter: fc.constantFrom('a/#', 'b/+', 'c'),
      qos,
      noLocal: fc.boolean(),
      retainAsPublished: fc.boolean(),
      retainHandling: qos,
      subscriptionId: fc.integer({ min: 1, max: 268_435_455 }),
    },
    {
      requiredKeys: ['filter', 'qos', 'noLocal', 'retainAsPublished', 'retainHandling'],
      noNullPrototype: true,
    },
  )
  const entry = fc.record(
    {
      seq: fc.integer({ min: 0, max: 3 }),
      state: fc.constantFrom('queued' as const, 'inflight' as const, 'released' as const),
      packetId: fc.integer({ min: 1, max: 65_535 }),
      message: pick,
      qos,
      retain: fc.boolean(),
      subscriptionIds: fc.array(fc.integer({ min: 1, max: 268_435_455 }), { maxLength: 3 }),
    },
    { requiredKeys: ['seq', 'state', 'message', 'qos', 'retain'], noNullPrototype: true },
  )
  const seq = fc.integer({ min: 0, max: 3 })
  const packetId = fc.integer({ min: 1, max: 2 })
  const putThenDelete = fc.oneof(
    fc.record({ clientId, entry }).map(({ clientId: c, entry: e }): Op[] => [
      { kind: 'putOutgoing', clientId: c, entry: e },
      { kind: 'deleteOutgoing', clientId: c, seq: e.seq },
    ]),
    fc.record({ clientId, packetId }).map(({ clientId: c, packetId: p }): Op[] => [
      { kind: 'putIncomingQos2', clientId: c, packetId: p },
      { kind: 'deleteIncomingQos2', clientId: c, packetId: p },
    ]),
  )
  const single = fc.oneof(
    { weight: 3, arbitrary: meta.map((m) => ({ kind: 'upsertSession' as const, meta: m })) },
    {
      weight: 1,
      arbitrary: clientId.map((c) => ({ kind: 'deleteSession' as const, clientId: c })),
    },
    ...[
      fc.record({ kind: fc.constant('putSubscription' as const), clientId, subscription }),
      fc.record({
        kind: fc.constant('deleteSubscription' as const),
        clientId,
        filter: fc.constantFrom('a/#', 'b/+', 'c'),
      }),
      fc.record({ kind: fc.constant('putOutgoing' as const), clientId, entry }),
      fc.record({ kind: fc.constant('putOutgoing' as const), clientId, entry }),
      fc.record({ kind: fc.constant('deleteOutgoing' as const), clientId, seq }),
      fc.record({ kind: fc.constant('putIncomingQos2' as const), clientId, packetId }),
      fc.record({ kind: fc.constant('deleteIncomingQos2' as const), clientId, packetId }),
      fc.record({ kind: fc.constant('putRetained' as const), message: pick }),
      fc.record({
        kind: fc.constant('deleteRetained' as const),
        topic: fc.constantFrom('t/1', 't/2', 't/3'),
      }),
      fc.constant({ kind: 'flush' as const }),
    ].map((arbitrary) => ({ weight: 2, arbitrary: arbitrary as fc.Arbitrary<Op> })),
    { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  )
  return fc.oneof(
    { weight: 8, arbitrary: single.map((o) => [o]) },
    { weight: 1, arbitrary: putThenDelete },
  )
}

/** A pool of messages (so entries share them) and a sequence of operations using it. */
export const scenario: fc.Arbitrary<Op[]> = fc
  .array(message, { minLength: 1, maxLength: 4 })
  .chain((pool) => fc.array(op(pool), { minLength: 5, maxLength: 60, size: 'max' }))
  .map((ops) => ops.flat())
