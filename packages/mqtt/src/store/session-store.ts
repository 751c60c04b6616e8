import type { BrokerMessage } from '../message.js'
import type { Subscription } from '../topics/subscription.js'

/** The part of a session that is not its subscriptions or messages. */
export interface SessionMeta {
  readonly clientId: string
  readonly protocolVersion: 3 | 4 | 5
  /** Seconds the session outlives its connection; 0xFFFFFFFF never expires. */
  readonly expiryIntervalSec: number
  /** When its connection ended (epoch ms); absent while connected. */
  readonly disconnectedAtMs?: number
  /** The identity the platform's authenticate hook returned, so revocation can find its sessions. */
  readonly identityId?: string
  /** A will still to be published (MQTT 5 will delay), with when to publish it. */
  readonly will?: { readonly message: BrokerMessage; readonly publishAtMs: number }
}

/**
 * A message owed to a session, in order: `queued` not yet sent, `inflight` sent as PUBLISH and
 * awaiting PUBACK/PUBREC, `released` PUBREL sent and awaiting PUBCOMP (the message is then no
 * longer needed, only its packet id).
 */
export interface OutgoingEntry {
  /** Position in the session's queue; increases by one per entry, never reused in a session. */
  readonly seq: number
  readonly state: 'queued' | 'inflight' | 'released'
  readonly packetId?: number
  readonly message: BrokerMessage
  /** The QoS it is delivered at: min(published, granted). */
  readonly qos: 0 | 1 | 2
  /** The RETAIN flag it is delivered with (retain-as-published, or a retained message on subscribe). */
  readonly retain: boolean
  readonly subscriptionIds?: readonly number[]
}

/** Everything stored of one session. */
export interface StoredSession extends SessionMeta {
  readonly subscriptions: readonly Subscription[]
  readonly outgoing: readonly OutgoingEntry[]
  /** Packet ids of incoming QoS 2 messages answered with PUBREC, awaiting PUBREL. */
  readonly incomingQos2: readonly number[]
}

/**
 * Where persistent sessions and retained messages live. Writes are recorded synchronously and
 * made durable together by `flush()` (group commit): the broker acknowledges a QoS 1/2 message
 * only after the flush that holds it has resolved, so a kill -9 loses nothing acknowledged.
 * Only persistent sessions are written; a clean session lives in memory alone.
 */
export interface SessionStore {
  /** Everything stored, read once at start. */
  load(): Promise<{ sessions: StoredSession[]; retained: BrokerMessage[] }>
  upsertSession(meta: SessionMeta): void
  /** Deletes the session with its subscriptions, outgoing messages and incoming QoS 2 ids. */
  deleteSession(clientId: string): void
  putSubscription(clientId: string, subscription: Subscription): void
  deleteSubscription(clientId: string, filter: string): void
  /** Inserts or replaces the entry with this `seq`. */
  putOutgoing(clientId: string, entry: OutgoingEntry): void
  deleteOutgoing(clientId: string, seq: number): void
  putIncomingQos2(clientId: string, packetId: number): void
  deleteIncomingQos2(clientId: string, packetId: number): void
  /** Stores the retained message for its topic, replacing any. */
  putRetained(message: BrokerMessage): void
  deleteRetained(topic: string): void
  /** Resolves when every write recorded before the call is durable. */
  flush(): Promise<void>
  /** Flushes and releases the file. Idempotent. */
  close(): Promise<void>
}
