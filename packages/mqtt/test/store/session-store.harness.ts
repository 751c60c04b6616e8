// What the contract's cases share: the harness an implementation provides, and sample records.
import assert from 'node:assert/strict'
import type { BrokerMessage } from '../../src/message.js'
import type { OutgoingEntry, SessionMeta, SessionStore } from '../../src/store/session-store.js'
import type { Subscription } from '../../src/topics/subscription.js'
import { normalise, type Loaded } from './session-store.model.js'

/** How the contract reaches one implementation. */
export interface StoreHarness {
  /** Opens the store; after close(), opens it again on the same data when `persistent`. */
  open(): SessionStore
  readonly persistent: boolean
  /** Rows in the shared message table; called only while the store is closed. */
  messageRows?(): number
}

/** One test's store, reopened (when persistent) between writing and reading. */
export class Ctx {
  store: SessionStore
  readonly #h: StoreHarness

  constructor(h: StoreHarness) {
    this.#h = h
    this.store = h.open()
  }

  /** Flushes, reopens when persistent, loads, and sorts what has no defined order. */
  async reload(): Promise<Loaded> {
    await this.reopen()
    return normalise(await this.store.load())
  }

  async reopen(): Promise<void> {
    await this.store.flush()
    if (!this.#h.persistent) return
    await this.store.close()
    this.store = this.#h.open()
  }

  get persistent(): boolean {
    return this.#h.persistent
  }

  /** Checks the message table's row count, when the store has one. */
  async assertMessageRows(expected: number, why?: string): Promise<void> {
    if (this.#h.messageRows === undefined) return
    await this.store.close()
    const rows = this.#h.messageRows()
    this.store = this.#h.open()
    assert.equal(rows, expected, why)
  }
}

export function message(topic: string, extra: Partial<BrokerMessage> = {}): BrokerMessage {
  return {
    topic,
    payload: new Uint8Array(Buffer.from(`payload of ${topic}`)),
    qos: 1,
    retain: false,
    properties: {},
    createdAtMs: 1_700_000_000_000,
    ...extra,
  }
}

export function meta(clientId: string, extra: Partial<SessionMeta> = {}): SessionMeta {
  return { clientId, protocolVersion: 5, expiryIntervalSec: 3600, ...extra }
}

export function subscription(filter: string, extra: Partial<Subscription> = {}): Subscription {
  return { filter, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0, ...extra }
}

export function entry(seq: number, m: BrokerMessage, extra: Partial<OutgoingEntry> = {}) {
  const e: OutgoingEntry = { seq, state: 'queued', message: m, qos: 1, retain: false, ...extra }
  return e
}
