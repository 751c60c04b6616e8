import type { BrokerMessage } from '../message.js'
import type { Subscription } from '../topics/subscription.js'
import type { OutgoingEntry, SessionMeta, SessionStore, StoredSession } from './session-store.js'
import { closedError, noSessionError } from './store-error.js'

interface MemorySession {
  meta: SessionMeta
  readonly subscriptions: Map<string, Subscription>
  readonly outgoing: Map<number, OutgoingEntry>
  readonly incomingQos2: Set<number>
}

/**
 * Creates a session store that keeps everything in maps: for brokers without persistence (sessions
 * survive reconnects, not restarts) and for tests. Same semantics as the SQLite store; `flush()`
 * resolves at once because there is nothing to make durable.
 *
 * @example
 * const store = createMemorySessionStore()
 * store.upsertSession({ clientId: 'dev-1', protocolVersion: 5, expiryIntervalSec: 3600 })
 * await store.flush()
 * const { sessions } = await store.load() // [{ clientId: 'dev-1', subscriptions: [], … }]
 */
export function createMemorySessionStore(): SessionStore {
  return new MemorySessionStore()
}

class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, MemorySession>()
  readonly #retained = new Map<string, BrokerMessage>()
  #closed = false

  load(): Promise<{ sessions: StoredSession[]; retained: BrokerMessage[] }> {
    if (this.#closed) return Promise.reject(closedError('load'))
    const sessions = [...this.#sessions.values()].map(snapshot)
    return Promise.resolve({ sessions, retained: [...this.#retained.values()] })
  }

  upsertSession(meta: SessionMeta): void {
    this.#checkOpen('upsertSession')
    const session = this.#sessions.get(meta.clientId)
    if (session !== undefined) session.meta = pickMeta(meta)
    else {
      this.#sessions.set(meta.clientId, {
        meta: pickMeta(meta),
        subscriptions: new Map(),
        outgoing: new Map(),
        incomingQos2: new Set(),
      })
    }
  }

  deleteSession(clientId: string): void {
    this.#checkOpen('deleteSession')
    this.#sessions.delete(clientId)
  }

  putSubscription(clientId: string, subscription: Subscription): void {
    this.#session(clientId, 'putSubscription').subscriptions.set(subscription.filter, subscription)
  }

  deleteSubscription(clientId: string, filter: string): void {
    this.#checkOpen('deleteSubscription')
    this.#sessions.get(clientId)?.subscriptions.delete(filter)
  }

  putOutgoing(clientId: string, entry: OutgoingEntry): void {
    this.#session(clientId, 'putOutgoing').outgoing.set(entry.seq, entry)
  }

  deleteOutgoing(clientId: string, seq: number): void {
    this.#checkOpen('deleteOutgoing')
    this.#sessions.get(clientId)?.outgoing.delete(seq)
  }

  putIncomingQos2(clientId: string, packetId: number): void {
    this.#session(clientId, 'putIncomingQos2').incomingQos2.add(packetId)
  }

  deleteIncomingQos2(clientId: string, packetId: number): void {
    this.#checkOpen('deleteIncomingQos2')
    this.#sessions.get(clientId)?.incomingQos2.delete(packetId)
  }

  putRetained(message: BrokerMessage): void {
    this.#checkOpen('putRetained')
    this.#retained.set(message.topic, message)
  }

  deleteRetained(topic: string): void {
    this.#checkOpen('deleteRetained')
    this.#retained.delete(topic)
  }

  flush(): Promise<void> {
    return Promise.resolve()
  }

  close(): Promise<void> {
    this.#closed = true
    return Promise.resolve()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw closedError(what)
  }

  #session(clientId: string, what: string): MemorySession {
    this.#checkOpen(what)
    const session = this.#sessions.get(clientId)
    if (session === undefined) throw noSessionError(clientId, what)
    return session
  }
}

function snapshot(session: MemorySession): StoredSession {
  return {
    ...session.meta,
    subscriptions: [...session.subscriptions.values()],
    outgoing: [...session.outgoing.values()].sort((a, b) => a.seq - b.seq),
    incomingQos2: [...session.incomingQos2],
  }
}

/**
 * Copies the fields a stored session keeps, so an object the broker passes with more in it (its
 * live session, say) is not kept alive or returned by load().
 */
export function pickMeta(meta: SessionMeta): SessionMeta {
  return {
    clientId: meta.clientId,
    protocolVersion: meta.protocolVersion,
    expiryIntervalSec: meta.expiryIntervalSec,
    ...(meta.disconnectedAtMs === undefined ? {} : { disconnectedAtMs: meta.disconnectedAtMs }),
    ...(meta.identityId === undefined ? {} : { identityId: meta.identityId }),
    ...(meta.will === undefined
      ? {}
      : { will: { message: meta.will.message, publishAtMs: meta.will.publishAtMs } }),
  }
}
