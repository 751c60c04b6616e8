import type { ProtocolVersion } from '../codec/packet-codec.js'
import type { ClientIdentity } from '../hooks/broker-hooks.js'
import type { BrokerMessage } from '../message.js'
import type { SessionMeta } from '../store/session-store.js'
import type { Subscription } from '../topics/subscription.js'
import { Outbox, type OutboxOptions } from './outbox.js'
import type { Persistence } from './persistence.js'

/** What a session needs of the connection that holds it. */
export interface SessionHolder {
  /** Ends the connection, e.g. when another one takes the session over (0x8E). */
  takeOver(): void
}

/**
 * The state MQTT keeps per client id across connections (MQTT 5 §4.1): subscriptions, the
 * messages owed to the client, incoming QoS 2 exchanges, and what happens when it goes away
 * (expiry, a delayed will).
 */
export class Session {
  readonly clientId: string
  protocolVersion: ProtocolVersion
  /** 0: ends with the connection; 0xFFFFFFFF: never expires. */
  expiryIntervalSec: number
  identity: ClientIdentity | undefined
  readonly outbox: Outbox
  holder: SessionHolder | undefined
  disconnectedAtMs: number | undefined
  expiryTimer: NodeJS.Timeout | undefined
  /** A will waiting for its delay (MQTT 5 §3.1.3.2.2), cancelled if the client comes back. */
  pendingWill:
    | { readonly message: BrokerMessage; readonly publishAtMs: number; timer?: NodeJS.Timeout }
    | undefined
  private persistence: Persistence | undefined
  private subscriptionMap: Map<string, Subscription> | undefined
  private incomingQos2Ids: Set<number> | undefined

  constructor(
    init: { clientId: string; protocolVersion: ProtocolVersion; expiryIntervalSec: number },
    outbox: OutboxOptions,
    persistence: Persistence,
  ) {
    this.clientId = init.clientId
    this.protocolVersion = init.protocolVersion
    this.expiryIntervalSec = init.expiryIntervalSec
    this.identity = undefined
    this.holder = undefined
    this.disconnectedAtMs = undefined
    this.expiryTimer = undefined
    this.pendingWill = undefined
    this.persistence = init.expiryIntervalSec > 0 ? persistence : undefined
    this.outbox = new Outbox(init.clientId, outbox, this.persistence)
  }

  /** Subscriptions by filter; made on first use, as is `incomingQos2` (idle connections have neither). */
  get subscriptions(): Map<string, Subscription> {
    return (this.subscriptionMap ??= new Map())
  }

  /** Incoming QoS 2 packet ids answered with PUBREC, awaiting PUBREL [MQTT-4.3.3-10]. */
  get incomingQos2(): Set<number> {
    return (this.incomingQos2Ids ??= new Set())
  }

  get persistent(): boolean {
    return this.expiryIntervalSec > 0
  }

  get online(): boolean {
    return this.holder !== undefined
  }

  /** The store, when this session is persistent; undefined for a clean one. */
  get store(): Persistence | undefined {
    return this.persistence
  }

  /** Changes the expiry (CONNECT or DISCONNECT); a session that becomes persistent is written in full. */
  setExpiry(expiryIntervalSec: number, persistence: Persistence): void {
    const wasPersistent = this.persistent
    this.expiryIntervalSec = expiryIntervalSec
    if (this.persistent === wasPersistent) return
    this.persistence = this.persistent ? persistence : undefined
    this.outbox.setPersistence(this.persistence)
    if (!this.persistent) persistence.deleteSession(this.clientId)
    else
      for (const subscription of this.subscriptions.values())
        persistence.putSubscription(this.clientId, subscription)
  }

  /** Writes the session's own record (not its subscriptions or messages), if persistent. */
  saveMeta(): void {
    this.persistence?.upsertSession(this.meta())
  }

  meta(): SessionMeta {
    return {
      clientId: this.clientId,
      protocolVersion: this.protocolVersion,
      expiryIntervalSec: this.expiryIntervalSec,
      ...(this.disconnectedAtMs === undefined ? {} : { disconnectedAtMs: this.disconnectedAtMs }),
      ...(this.identity === undefined ? {} : { identityId: this.identity.id }),
      ...(this.pendingWill === undefined
        ? {}
        : {
            will: { message: this.pendingWill.message, publishAtMs: this.pendingWill.publishAtMs },
          }),
    }
  }
}
