import type { BrokerMessage } from '../message.js'
import type { Delivery } from '../session/outbox.js'
import type { Session } from '../session/session.js'
import type { Subscription } from '../topics/subscription.js'
import type { BrokerCore } from './broker-core.js'

/** What one client's matching subscriptions add up to for one message. */
interface ClientMatch {
  qos: 0 | 1 | 2
  retainAsPublished: boolean
  subscriptionIds: number[] | undefined
}

/**
 * Routes a message to its subscribers. A client with several matching subscriptions gets it once,
 * at the highest of their QoS, with every subscription id [MQTT-3.3.4-2, MQTT-3.3.4-3]; No Local
 * subscriptions skip their own publisher [MQTT-3.8.3-3]; each matching share group gets it once,
 * through one member chosen in turn (MQTT 5 §4.8.2).
 */
export class Router {
  private readonly core: BrokerCore
  private readonly cursors = new Map<string, number>()

  constructor(core: BrokerCore) {
    this.core = core
  }

  route(message: BrokerMessage): void {
    // A fresh map per message: delivering may (rarely) route again, e.g. a will.
    const matches = new Map<string, ClientMatch>()
    this.core.tree.forEachMatch(message.topic, (clientId, sub) => {
      if (sub.noLocal && clientId === message.publisherClientId) return
      const seen = matches.get(clientId)
      if (seen === undefined) {
        const ids = sub.subscriptionId === undefined ? undefined : [sub.subscriptionId]
        matches.set(clientId, {
          qos: sub.qos,
          retainAsPublished: sub.retainAsPublished,
          subscriptionIds: ids,
        })
        return
      }
      if (sub.qos > seen.qos) seen.qos = sub.qos
      seen.retainAsPublished ||= sub.retainAsPublished
      if (sub.subscriptionId !== undefined) (seen.subscriptionIds ??= []).push(sub.subscriptionId)
    })
    for (const [clientId, match] of matches) {
      const session = this.core.sessions.get(clientId)
      if (session === undefined) continue
      session.outbox.deliver({
        message,
        qos: Math.min(message.qos, match.qos) as 0 | 1 | 2,
        // [MQTT-3.3.1-12, MQTT-3.3.1-13] RETAIN is cleared on delivery unless Retain As Published.
        retain: message.retain && match.retainAsPublished,
        ...(match.subscriptionIds === undefined ? {} : { subscriptionIds: match.subscriptionIds }),
      })
    }
    this.core.tree.forEachSharedMatch(message.topic, (key, members) => {
      const chosen = this.pick(key, members, undefined)
      if (chosen !== undefined)
        chosen.session.outbox.deliver(sharedDelivery(message, chosen.sub, key))
    })
  }

  /** Gives a message back to its share group after the member it went to left, excluding that member. */
  deliverShared(delivery: Delivery, excludeClientId: string): void {
    const key = delivery.shareKey
    if (key === undefined) return
    let members: ReadonlyMap<string, Subscription> | undefined
    this.core.tree.forEachSharedMatch(delivery.message.topic, (k, m) => {
      if (k === key) members = m
    })
    if (members === undefined) return
    const chosen = this.pick(key, members, excludeClientId)
    if (chosen !== undefined)
      chosen.session.outbox.deliver(sharedDelivery(delivery.message, chosen.sub, key))
  }

  /**
   * Chooses the next member of a share group in turn, preferring one that is online with room in
   * its window, then any online one, then any (a persistent session queues it).
   */
  private pick(
    key: string,
    members: ReadonlyMap<string, Subscription>,
    exclude: string | undefined,
  ): { session: Session; sub: Subscription } | undefined {
    const ids = [...members.keys()]
    if (ids.length === 0) return undefined
    const start = (this.cursors.get(key) ?? 0) % ids.length
    let online: { session: Session; sub: Subscription; at: number } | undefined
    let any: { session: Session; sub: Subscription; at: number } | undefined
    for (let i = 0; i < ids.length; i++) {
      const at = (start + i) % ids.length
      const id = ids[at] ?? ''
      const session = this.core.sessions.get(id)
      const sub = members.get(id)
      if (session === undefined || sub === undefined || id === exclude) continue
      const candidate = { session, sub, at }
      any ??= candidate
      if (!session.online) continue
      online ??= candidate
      if (session.outbox.inflightCount === 0 || session.outbox.queuedCount === 0) {
        online = candidate
        break
      }
    }
    const chosen = online ?? any
    if (chosen !== undefined) this.cursors.set(key, chosen.at + 1)
    return chosen
  }
}

function sharedDelivery(message: BrokerMessage, sub: Subscription, shareKey: string): Delivery {
  return {
    message,
    qos: Math.min(message.qos, sub.qos) as 0 | 1 | 2,
    retain: message.retain && sub.retainAsPublished,
    shareKey,
    ...(sub.subscriptionId === undefined ? {} : { subscriptionIds: [sub.subscriptionId] }),
  }
}
