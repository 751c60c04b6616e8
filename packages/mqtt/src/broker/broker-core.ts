import type { Logger } from 'pino'
import { parseSharedFilter, topicMatches } from '@strata/protocol'
import { SharedPacketParser } from '../codec/packet-codec.js'
import type { Connection } from '../connection/connection.js'
import type { ConnectionInfo } from '../connection/connection-info.js'
import { reason } from '../connection/reason-codes.js'
import type { BrokerHooks, ClientIdentity } from '../hooks/broker-hooks.js'
import type { BrokerMessage } from '../message.js'
import type { OutboxOptions } from '../session/outbox.js'
import { Persistence } from '../session/persistence.js'
import { Session } from '../session/session.js'
import type { SessionStore, StoredSession } from '../store/session-store.js'
import { RetainedIndex } from '../topics/retained-index.js'
import { SubscriptionTree } from '../topics/subscription-tree.js'
import type { Subscription } from '../topics/subscription.js'
import type { BrokerOptions } from './broker-options.js'
import { createMetrics, type BrokerMetrics } from './metrics.js'
import { RateLimiter } from './rate-limiter.js'
import { PublishWriter } from './publish-writer.js'
import { Router } from './router.js'

/** The longest timer Node runs as asked; longer delays are re-armed. */
const maxTimerMs = 2 ** 31 - 1

/**
 * The broker's state and the operations handlers share: sessions and who holds them, the
 * subscription tree, retained messages, routing, wills and session expiry. It owns no socket:
 * listeners hand it connections.
 */
export class BrokerCore {
  readonly options: BrokerOptions
  readonly hooks: BrokerHooks
  readonly log: Logger
  readonly clock: () => number
  readonly metrics: BrokerMetrics = createMetrics()
  readonly sessions = new Map<string, Session>()
  readonly connections = new Set<Connection>()
  readonly tree = new SubscriptionTree<Subscription>()
  readonly retained = new RetainedIndex()
  readonly persistence: Persistence
  readonly router: Router
  readonly publishWriter: PublishWriter
  readonly packetParser = new SharedPacketParser()
  private readonly outboxOptions: OutboxOptions
  private readonly connectRate: RateLimiter
  private readonly expirySweep: NodeJS.Timeout
  closing = false

  constructor(
    deps: { hooks: BrokerHooks; store: SessionStore; log: Logger; clock: () => number },
    options: BrokerOptions,
  ) {
    this.options = options
    this.hooks = deps.hooks
    this.log = deps.log
    this.clock = deps.clock
    this.persistence = new Persistence(deps.store, (err) =>
      this.log.error({ err }, 'session store flush failed'),
    )
    this.router = new Router(this)
    this.outboxOptions = {
      maxQueued: options.limits.maxQueuedPerSession,
      overflow: options.limits.queueOverflow,
      clock: deps.clock,
      onDrop: (why, clientId) => {
        this.metrics.messagesDropped++
        if (why !== 'offline-qos0') this.log.debug({ clientId, why }, 'message dropped')
      },
    }
    this.publishWriter = new PublishWriter(this.metrics, deps.clock)
    this.connectRate = new RateLimiter(options.limits.maxConnectsPerSec, deps.clock)
    this.expirySweep = setInterval(() => this.expireSessions(), 1000)
    this.expirySweep.unref()
  }

  /** Restores what the store held: sessions (all offline now), their subscriptions and messages, retained messages. */
  restore(stored: { sessions: StoredSession[]; retained: BrokerMessage[] }): void {
    const now = this.clock()
    for (const message of stored.retained) this.retained.set(message)
    for (const record of stored.sessions) {
      const session = this.newSession(
        record.clientId,
        record.protocolVersion,
        record.expiryIntervalSec,
      )
      session.disconnectedAtMs = record.disconnectedAtMs ?? now
      if (record.identityId !== undefined) session.identity = { id: record.identityId }
      for (const subscription of record.subscriptions) {
        session.subscriptions.set(subscription.filter, subscription)
        this.tree.add(subscription.filter, session.clientId, subscription)
      }
      for (const id of record.incomingQos2) session.incomingQos2.add(id)
      session.outbox.restore(record.outgoing)
      if (record.will !== undefined)
        this.scheduleWill(session, record.will.message, record.will.publishAtMs)
      this.sessions.set(session.clientId, session)
    }
    this.log.info(
      { sessions: stored.sessions.length, retained: stored.retained.length },
      'sessions restored',
    )
  }

  private newSession(
    clientId: string,
    protocolVersion: 3 | 4 | 5,
    expiryIntervalSec: number,
  ): Session {
    return new Session(
      { clientId, protocolVersion, expiryIntervalSec },
      this.outboxOptions,
      this.persistence,
    )
  }

  /**
   * A reason code to refuse a new connection with (limits, shutdown), or undefined to admit it.
   * `info` carries its listener's own limit, when that has one (Mosquitto's per-listener
   * `max_connections`).
   */
  admit(info: ConnectionInfo): number | undefined {
    if (this.closing) return reason.serverShuttingDown
    // The asking connection is in the set already, authenticating or not.
    if (this.connections.size > this.options.limits.maxConnections) return reason.serverBusy
    const perListener = info.listenerConnections
    if (perListener !== undefined && perListener.open() > perListener.max) return reason.serverBusy
    if (!this.connectRate.take()) return reason.connectionRateExceeded
    this.metrics.connectionsAccepted++
    return undefined
  }

  /**
   * Gives `conn` the session of `clientId`: takes it from another connection (0x8E), discards it
   * on clean start, cancels a pending will [MQTT-3.1.3-9], or makes a new one.
   */
  attachSession(
    conn: Connection,
    clientId: string,
    cleanStart: boolean,
    expirySec: number,
    identity: ClientIdentity,
  ): { session: Session; present: boolean } {
    // The previous connection ends as any other would: its will, onDisconnect, a clean
    // session discarded [MQTT-3.1.4-3]. Then look the session up again.
    this.sessions.get(clientId)?.holder?.takeOver()
    let session = this.sessions.get(clientId)
    if (session !== undefined && cleanStart) {
      this.discardSession(session)
      session = undefined
    }
    const present = session !== undefined
    if (session === undefined) {
      session = this.newSession(clientId, conn.version, expirySec)
      this.sessions.set(clientId, session)
    }
    this.cancelWill(session)
    session.protocolVersion = conn.version
    session.identity = identity
    session.setExpiry(expirySec, this.persistence)
    session.holder = conn
    session.disconnectedAtMs = undefined
    session.saveMeta()
    if (present) this.reauthorize(session, conn)
    return { session, present }
  }

  /** A connection ended: publish or schedule its will, then keep, or discard, its session. */
  connectionClosed(conn: Connection, why: string, publishWill: boolean): void {
    this.connections.delete(conn)
    const session = conn.session
    if (session === undefined || session.holder !== conn) return
    session.holder = undefined
    session.outbox.detach()
    session.disconnectedAtMs = this.clock()
    if (conn.client !== undefined) this.hooks.onDisconnect?.(conn.client, why)
    conn.debug({ why }, 'client disconnected')
    const will = publishWill ? conn.will : undefined
    if (will !== undefined) {
      // The will waits for its delay, but never past the session's end (MQTT 5 §3.1.3.2.2).
      const delaySec = Math.min(will.delaySec, session.expiryIntervalSec)
      if (delaySec === 0) this.publishInternal(will.message)
      else this.scheduleWill(session, will.message, this.clock() + delaySec * 1000)
    }
    for (const delivery of session.outbox.takeShared())
      this.router.deliverShared(delivery, session.clientId)
    if (!session.persistent) this.endSession(session)
    else session.saveMeta()
  }

  private scheduleWill(session: Session, message: BrokerMessage, publishAtMs: number): void {
    const pending: NonNullable<Session['pendingWill']> = { message, publishAtMs }
    session.pendingWill = pending
    const arm = (): void => {
      const wait = pending.publishAtMs - this.clock()
      pending.timer = setTimeout(
        () => {
          if (session.pendingWill !== pending) return
          if (pending.publishAtMs > this.clock()) return arm()
          session.pendingWill = undefined
          session.saveMeta()
          this.publishInternal(message)
        },
        Math.max(0, Math.min(wait, maxTimerMs)),
      )
      pending.timer.unref()
    }
    arm()
    session.saveMeta()
  }

  private cancelWill(session: Session): void {
    if (session.pendingWill?.timer !== undefined) clearTimeout(session.pendingWill.timer)
    session.pendingWill = undefined
  }

  /** Removes a session whose time is up or that a clean start replaced; a pending will goes out now. */
  private endSession(session: Session): void {
    if (session.pendingWill !== undefined) {
      const will = session.pendingWill.message
      this.cancelWill(session)
      this.publishInternal(will)
    }
    this.discardSession(session)
  }

  private discardSession(session: Session): void {
    this.cancelWill(session)
    for (const filter of session.subscriptions.keys()) this.tree.remove(filter, session.clientId)
    for (const delivery of session.outbox.takeShared({ inflight: true }))
      this.router.deliverShared(delivery, session.clientId)
    session.subscriptions.clear()
    if (session.persistent) this.persistence.deleteSession(session.clientId)
    this.sessions.delete(session.clientId)
  }

  private expireSessions(): void {
    const now = this.clock()
    for (const session of this.sessions.values()) {
      const since = session.disconnectedAtMs
      if (session.online || since === undefined || session.expiryIntervalSec === 0xffffffff)
        continue
      if (now - since >= session.expiryIntervalSec * 1000) {
        this.log.debug({ clientId: session.clientId }, 'session expired')
        this.endSession(session)
      }
    }
  }

  /**
   * Asks the authoriser again about every subscription of a resumed session: a permission
   * revoked while the client was away ends its subscription (Mosquitto CVE-2021-34434).
   */
  private reauthorize(session: Session, conn: Connection): void {
    const client = conn.client
    if (this.hooks.authorizeSubscribe === undefined || client === undefined) return
    const revoked: string[] = []
    for (const subscription of [...session.subscriptions.values()]) {
      if (this.hooks.authorizeSubscribe(client, subscription.filter, subscription.qos).allowed)
        continue
      this.removeSubscription(session, subscription.filter)
      revoked.push(innerFilter(subscription.filter))
      this.log.info(
        { clientId: session.clientId, filter: subscription.filter },
        'subscription revoked',
      )
    }
    if (revoked.length === 0) return
    // What was queued through a revoked subscription, and no remaining one, is not delivered.
    const remaining = [...session.subscriptions.keys()].map(innerFilter)
    session.outbox.dropQueued(
      (topic) =>
        revoked.some((f) => topicMatches(f, topic)) &&
        !remaining.some((f) => topicMatches(f, topic)),
    )
  }

  addSubscription(session: Session, subscription: Subscription): void {
    session.subscriptions.set(subscription.filter, subscription)
    this.tree.add(subscription.filter, session.clientId, subscription)
    session.store?.putSubscription(session.clientId, subscription)
  }

  removeSubscription(session: Session, filter: string): boolean {
    if (!session.subscriptions.delete(filter)) return false
    this.tree.remove(filter, session.clientId)
    session.store?.deleteSubscription(session.clientId, filter)
    return true
  }

  /** Retained messages for a new subscription, per its Retain Handling (MQTT 5 §3.8.3.1). */
  sendRetained(session: Session, subscription: Subscription, isNew: boolean): void {
    if (subscription.filter.startsWith('$share/')) return // (MQTT 5 §3.8.4) not for shared subscriptions
    if (subscription.retainHandling === 2 || (subscription.retainHandling === 1 && !isNew)) return
    const now = this.clock()
    this.retained.forEachMatch(subscription.filter, (message) => {
      if (message.expiresAtMs !== undefined && message.expiresAtMs <= now) return
      const qos = Math.min(message.qos, subscription.qos) as 0 | 1 | 2
      const ids =
        subscription.subscriptionId === undefined
          ? {}
          : { subscriptionIds: [subscription.subscriptionId] }
      // [MQTT-3.3.1-8] a retained message sent for a new subscription has RETAIN set.
      session.outbox.deliver({ message, qos, retain: true, ...ids })
    })
  }

  /**
   * Takes a message in: retains it (or clears the retained one), routes it to every matching
   * subscription. Resolves when what it changed in the store is durable; undefined when it changed nothing.
   */
  acceptPublish(message: BrokerMessage): Promise<void> | undefined {
    if (message.retain) this.retain(message)
    this.router.route(message)
    return this.persistence.barrier()
  }

  /** Publishes a message of the broker's own (a will, a `$SYS` value) without waiting for the store. */
  publishInternal(message: BrokerMessage): void {
    this.acceptPublish(message)?.catch((err: unknown) =>
      this.log.error({ err, topic: message.topic }, 'store flush failed'),
    )
  }

  private retain(message: BrokerMessage): void {
    // [MQTT-3.3.1-6, MQTT-3.3.1-7] an empty retained message clears the topic.
    if (message.payload.length === 0) {
      if (this.retained.delete(message.topic)) this.persistence.deleteRetained(message.topic)
      return
    }
    this.retained.set(message)
    // $SYS values are rewritten every few seconds and stale after a restart: not worth the disk.
    if (!message.topic.startsWith('$SYS/')) this.persistence.putRetained(message)
  }

  /** Disconnects every connection of an identity at once (revocation), optionally discarding its sessions. */
  disconnectIdentity(
    identityId: string,
    options: { reasonCode?: number; discardSessions?: boolean; publishWill?: boolean } = {},
  ): number {
    let count = 0
    for (const conn of [...this.connections]) {
      if (conn.client?.identity.id !== identityId) continue
      // [MQTT-3.1.2-8] only the client's own DISCONNECT deletes its will; revocation may opt out.
      conn.close('disconnected by the server', {
        reasonCode: options.reasonCode ?? reason.administrativeAction,
        publishWill: options.publishWill ?? true,
      })
      count++
    }
    if (options.discardSessions === true) this.discardRetainedOf(identityId)
    if (options.discardSessions === true) {
      for (const session of [...this.sessions.values()])
        if (session.identity?.id === identityId) this.discardSession(session)
    }
    return count
  }

  /**
   * Removes the retained messages an identity's clients published, so a revoked publisher's
   * state stops reaching new subscribers (Mosquitto CVE-2018-12546). Its clients are the client
   * ids of its sessions and, for devices whose client id is their identity, the id itself.
   */
  private discardRetainedOf(identityId: string): void {
    const clientIds = new Set([identityId])
    for (const session of this.sessions.values())
      if (session.identity?.id === identityId) clientIds.add(session.clientId)
    for (const message of [...this.retained.values()]) {
      if (message.publisherClientId === undefined || !clientIds.has(message.publisherClientId))
        continue
      this.retained.delete(message.topic)
      this.persistence.deleteRetained(message.topic)
    }
  }

  stop(): void {
    this.closing = true
    clearInterval(this.expirySweep)
    for (const session of this.sessions.values()) this.cancelWillTimerOnly(session)
  }

  private cancelWillTimerOnly(session: Session): void {
    if (session.pendingWill?.timer !== undefined) clearTimeout(session.pendingWill.timer)
  }
}

/** The filter inside a `$share/{group}/` prefix, or the filter itself. */
function innerFilter(filter: string): string {
  const shared = parseSharedFilter(filter)
  return shared !== undefined && 'filter' in shared ? shared.filter : filter
}
