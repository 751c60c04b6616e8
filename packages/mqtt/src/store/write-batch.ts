import type { BrokerMessage } from '../message.js'
import type { Subscription } from '../topics/subscription.js'
import type { OutgoingEntry, SessionMeta } from './session-store.js'

/**
 * The net effect of one batch on one client's rows. A commit applies it in field order: `reset`
 * first, then the session row, then the rest, which gives the same result as replaying the
 * recorded calls one by one because each map keeps only the last write per key.
 */
export interface ClientOps {
  /** deleteSession was recorded: delete every row of the client before writing the rest. */
  reset: boolean
  /** The session row to write; undefined leaves the stored one. */
  meta: SessionMeta | undefined
  /** By filter; null deletes. */
  readonly subscriptions: Map<string, Subscription | null>
  /** By seq; null deletes. */
  readonly outgoing: Map<number, OutgoingEntry | null>
  /** By packet id; true inserts, false deletes. */
  readonly incomingQos2: Map<number, boolean>
}

/**
 * Writes recorded since the last commit, folded per key so that a put undone by a delete in the
 * same batch never reaches the disk. Whether a delete may be dropped depends on what is on disk,
 * which the store knows and passes in as `onDisk`.
 */
export class WriteBatch {
  readonly clients = new Map<string, ClientOps>()
  /** By topic; null deletes. */
  readonly retained = new Map<string, BrokerMessage | null>()
  /** Writes dropped because a later write of the same batch undid them (for stats and tests). */
  cancelled = 0

  get isEmpty(): boolean {
    return this.clients.size === 0 && this.retained.size === 0
  }

  upsertSession(meta: SessionMeta): void {
    this.#ops(meta.clientId).meta = meta
  }

  /** `onDisk`: a session row of this client may be stored; if not, its writes simply vanish. */
  deleteSession(clientId: string, onDisk: boolean): void {
    const ops = this.clients.get(clientId)
    if (!onDisk) {
      if (ops !== undefined) this.cancelled += countOps(ops) + 1
      this.clients.delete(clientId)
      return
    }
    this.clients.set(clientId, emptyOps(true))
  }

  putSubscription(clientId: string, subscription: Subscription): void {
    this.#ops(clientId).subscriptions.set(subscription.filter, subscription)
  }

  deleteSubscription(clientId: string, filter: string): void {
    this.#ops(clientId).subscriptions.set(filter, null)
  }

  putOutgoing(clientId: string, entry: OutgoingEntry): void {
    this.#ops(clientId).outgoing.set(entry.seq, entry)
  }

  /** `onDisk`: an entry with this seq may be stored. */
  deleteOutgoing(clientId: string, seq: number, onDisk: boolean): void {
    const ops = this.clients.get(clientId)
    if (ops?.reset === true || !onDisk) this.#cancel(clientId, ops, ops?.outgoing, seq)
    else this.#ops(clientId).outgoing.set(seq, null)
  }

  putIncomingQos2(clientId: string, packetId: number): void {
    this.#ops(clientId).incomingQos2.set(packetId, true)
  }

  /** `onDisk`: this packet id may be stored. */
  deleteIncomingQos2(clientId: string, packetId: number, onDisk: boolean): void {
    const ops = this.clients.get(clientId)
    if (ops?.reset === true || !onDisk) this.#cancel(clientId, ops, ops?.incomingQos2, packetId)
    else this.#ops(clientId).incomingQos2.set(packetId, false)
  }

  putRetained(message: BrokerMessage): void {
    this.retained.set(message.topic, message)
  }

  deleteRetained(topic: string): void {
    this.retained.set(topic, null)
  }

  /** Drops a pending put whose key is not on disk, so neither it nor the delete is written. */
  #cancel<K>(
    clientId: string,
    ops: ClientOps | undefined,
    map: Map<K, unknown> | undefined,
    key: K,
  ): void {
    if (ops === undefined || map?.delete(key) !== true) return
    this.cancelled += 2
    if (!ops.reset && ops.meta === undefined && countOps(ops) === 0) this.clients.delete(clientId)
  }

  #ops(clientId: string): ClientOps {
    let ops = this.clients.get(clientId)
    if (ops === undefined) {
      ops = emptyOps(false)
      this.clients.set(clientId, ops)
    }
    return ops
  }
}

function emptyOps(reset: boolean): ClientOps {
  return {
    reset,
    meta: undefined,
    subscriptions: new Map(),
    outgoing: new Map(),
    incomingQos2: new Map(),
  }
}

function countOps(ops: ClientOps): number {
  return (
    (ops.meta === undefined ? 0 : 1) +
    ops.subscriptions.size +
    ops.outgoing.size +
    ops.incomingQos2.size
  )
}
