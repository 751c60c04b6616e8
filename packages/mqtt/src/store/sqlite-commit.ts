import type { BrokerMessage } from '../message.js'
import type { Subscription } from '../topics/subscription.js'
import { messageParams } from './message-codec.js'
import type { OutgoingEntry, SessionMeta } from './session-store.js'
import type { DiskIndex } from './disk-index.js'
import type { Statements } from './sqlite-statements.js'
import type { ClientOps, WriteBatch } from './write-batch.js'

/**
 * Gives each BrokerMessage object one row id for as long as the object lives, so a message fanned
 * out to N sessions is one messages row referenced N times. Ids only grow within a process and
 * start above the largest stored id, so an id never names two different messages.
 */
export class MessageIds {
  readonly #ids = new WeakMap<BrokerMessage, number>()
  #last: number

  constructor(maxStoredId: number) {
    this.#last = maxStoredId
  }

  /** Remembers the id of a message read from the file, so writing it again reuses the row. */
  remember(message: BrokerMessage, id: number): void {
    this.#ids.set(message, id)
  }

  idOf(message: BrokerMessage): number {
    let id = this.#ids.get(message)
    if (id === undefined) {
      id = ++this.#last
      this.#ids.set(message, id)
    }
    return id
  }
}

/**
 * Writes one batch; runs inside the caller's transaction. Every message a written row refers to
 * is inserted once per commit (`INSERT OR IGNORE`: a lookup when the row is already there, e.g.
 * after a commit dropped it as unused and the broker writes the same object again). Rows deleted
 * or replaced report their message id; at the end those messages go if nothing refers to them.
 * A put of a seq the disk index says is not stored skips the delete of an older row: the common
 * case, a new entry, is then two inserts.
 */
export function applyBatch(
  st: Statements,
  ids: MessageIds,
  disk: DiskIndex,
  batch: WriteBatch,
): void {
  const commit = new Commit(st, ids, disk)
  for (const [clientId, ops] of batch.clients) commit.client(clientId, ops)
  for (const [topic, message] of batch.retained) commit.retained(topic, message)
  commit.dropUnusedMessages()
}

class Commit {
  readonly #st: Statements
  readonly #ids: MessageIds
  readonly #disk: DiskIndex
  readonly #inserted = new Set<number>()
  readonly #freed = new Set<number>()

  constructor(st: Statements, ids: MessageIds, disk: DiskIndex) {
    this.#st = st
    this.#ids = ids
    this.#disk = disk
  }

  client(clientId: string, ops: ClientOps): void {
    const st = this.#st
    if (ops.reset) {
      for (const row of st.deleteAllOutgoing.all(clientId)) this.#freed.add(row.message_id)
      st.deleteSubscriptions.run(clientId)
      st.deleteAllIncomingQos2.run(clientId)
      this.#free(st.deleteSession.get(clientId))
    }
    if (ops.meta !== undefined) this.#session(ops.meta)
    for (const [filter, sub] of ops.subscriptions) {
      if (sub === null) st.deleteSubscription.run(clientId, filter)
      else this.#subscription(clientId, sub)
    }
    for (const [seq, entry] of ops.outgoing) {
      const stored = !ops.reset && this.#disk.mayHaveOutgoing(clientId, seq)
      if (entry === null || stored) this.#free(st.deleteOutgoing.get(clientId, seq))
      if (entry !== null) this.#outgoing(clientId, entry)
    }
    for (const [packetId, put] of ops.incomingQos2) {
      if (put) st.putIncomingQos2.run(clientId, packetId)
      else st.deleteIncomingQos2.run(clientId, packetId)
    }
  }

  retained(topic: string, message: BrokerMessage | null): void {
    this.#free(this.#st.deleteRetained.get(topic))
    if (message !== null) this.#st.insertRetained.run(topic, this.#message(message))
  }

  dropUnusedMessages(): void {
    for (const id of this.#freed) this.#st.dropMessageIfUnused.run(id)
  }

  #session(meta: SessionMeta): void {
    // Delete + insert rather than upsert: the delete reports the old will's message id.
    this.#free(this.#st.deleteSession.get(meta.clientId))
    const will = meta.will
    this.#st.insertSession.run(
      meta.clientId,
      meta.protocolVersion,
      meta.expiryIntervalSec,
      meta.disconnectedAtMs ?? null,
      meta.identityId ?? null,
      will === undefined ? null : this.#message(will.message),
      will === undefined ? null : will.publishAtMs,
    )
  }

  #subscription(clientId: string, s: Subscription): void {
    this.#st.putSubscription.run(
      clientId,
      s.filter,
      s.qos,
      s.noLocal ? 1 : 0,
      s.retainAsPublished ? 1 : 0,
      s.retainHandling,
      s.subscriptionId ?? null,
    )
  }

  #outgoing(clientId: string, e: OutgoingEntry): void {
    this.#st.insertOutgoing.run(
      clientId,
      e.seq,
      e.state,
      e.packetId ?? null,
      this.#message(e.message),
      e.qos,
      e.retain ? 1 : 0,
      e.subscriptionIds === undefined ? null : JSON.stringify(e.subscriptionIds),
    )
  }

  #message(message: BrokerMessage): number {
    const id = this.#ids.idOf(message)
    if (!this.#inserted.has(id)) {
      this.#st.insertMessage.run(...messageParams(id, message))
      this.#inserted.add(id)
    }
    return id
  }

  #free(row: { message_id: number | null } | undefined): void {
    if (row !== undefined && row.message_id !== null) this.#freed.add(row.message_id)
  }
}
