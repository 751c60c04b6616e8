import type { BrokerMessage } from '../message.js'
import type { OutgoingEntry, SessionMeta, SessionStore } from '../store/session-store.js'
import type { Subscription } from '../topics/subscription.js'

/**
 * The broker's view of the session store: records writes, flushes them in the background every
 * event-loop turn, and hands out a barrier promise to what must not be acknowledged before it is
 * durable (a QoS 1/2 PUBLISH that was queued for a persistent session or retained).
 */
export class Persistence {
  private readonly store: SessionStore
  private readonly onError: (err: unknown) => void
  private dirtySinceBarrier = false
  private backgroundScheduled = false

  constructor(store: SessionStore, onError: (err: unknown) => void) {
    this.store = store
    this.onError = onError
  }

  /** Resolves when everything recorded so far is durable; undefined when nothing was recorded since the last barrier. */
  barrier(): Promise<void> | undefined {
    if (!this.dirtySinceBarrier) return undefined
    this.dirtySinceBarrier = false
    return this.store.flush()
  }

  private touched(): void {
    this.dirtySinceBarrier = true
    if (this.backgroundScheduled) return
    this.backgroundScheduled = true
    setImmediate(() => {
      this.backgroundScheduled = false
      this.store.flush().catch(this.onError)
    })
  }

  upsertSession(meta: SessionMeta): void {
    this.store.upsertSession(meta)
    this.touched()
  }

  deleteSession(clientId: string): void {
    this.store.deleteSession(clientId)
    this.touched()
  }

  putSubscription(clientId: string, subscription: Subscription): void {
    this.store.putSubscription(clientId, subscription)
    this.touched()
  }

  deleteSubscription(clientId: string, filter: string): void {
    this.store.deleteSubscription(clientId, filter)
    this.touched()
  }

  putOutgoing(clientId: string, entry: OutgoingEntry): void {
    this.store.putOutgoing(clientId, entry)
    this.touched()
  }

  deleteOutgoing(clientId: string, seq: number): void {
    this.store.deleteOutgoing(clientId, seq)
    this.touched()
  }

  putIncomingQos2(clientId: string, packetId: number): void {
    this.store.putIncomingQos2(clientId, packetId)
    this.touched()
  }

  deleteIncomingQos2(clientId: string, packetId: number): void {
    this.store.deleteIncomingQos2(clientId, packetId)
    this.touched()
  }

  putRetained(message: BrokerMessage): void {
    this.store.putRetained(message)
    this.touched()
  }

  deleteRetained(topic: string): void {
    this.store.deleteRetained(topic)
    this.touched()
  }
}
