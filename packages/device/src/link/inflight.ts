/**
 * The in-flight bookkeeping of a link: its QoS 1 PUBLISH packets sent and not acknowledged yet,
 * by packet id, each kept as the encoded bytes that are resent (with DUP) after a reconnect.
 *
 * Plain functions over the link's own fields rather than an object per link: the map exists only
 * while something is in flight (null otherwise, as an empty Map still holds its hash table, and
 * most simulated devices have nothing in flight), and the last packet id is a number on the link.
 */

/** Packet id → encoded PUBLISH; null when nothing is in flight. */
export type Inflight = Map<number, Buffer> | null

/** The DUP flag of a PUBLISH fixed header (MQTT 3.3.1.1). */
const dupFlag = 0x08

/** Highest packet id; ids are 1–65,535 [MQTT-2.3.1-1]. */
const maxPacketId = 65_535

/** How many messages are in flight. */
export function inflightCount(inflight: Inflight): number {
  return inflight?.size ?? 0
}

/**
 * The packet id after `lastId` that is not in flight, wrapping from 65,535 to 1. The caller
 * stores it as its new `lastId` (it also numbers SUBSCRIBE packets).
 *
 * @example
 * this.#lastId = nextPacketId(this.#inflight, this.#lastId)
 */
export function nextPacketId(inflight: Inflight, lastId: number): number {
  let id = lastId
  for (;;) {
    id = id >= maxPacketId ? 1 : id + 1
    if (inflight?.has(id) !== true) return id
  }
}

/**
 * Records `bytes` as in flight under `id`; returns the map to keep (created on the first message).
 *
 * @example
 * this.#inflight = addInflight(this.#inflight, id, bytes)
 */
export function addInflight(inflight: Inflight, id: number, bytes: Buffer): Map<number, Buffer> {
  return (inflight ?? new Map<number, Buffer>()).set(id, bytes)
}

/**
 * Settles `id` on its PUBACK. Undefined when `id` was not in flight (a duplicate or stray
 * PUBACK); otherwise the map to keep, which is null once the last message is settled.
 *
 * @example
 * const left = settleInflight(this.#inflight, id)
 * if (left !== undefined) this.#inflight = left
 */
export function settleInflight(inflight: Inflight, id: number): Inflight | undefined {
  if (inflight?.delete(id) !== true) return undefined
  return inflight.size === 0 ? null : inflight
}

/**
 * Sets the DUP flag of an in-flight PUBLISH before it is resent: [MQTT-4.4.0-1] after a
 * reconnect, unacknowledged PUBLISH packets are resent with DUP set [MQTT-3.3.1-1]. Changes
 * `bytes` in place and returns them.
 *
 * @example
 * for (const bytes of inflight.values()) write(markDuplicate(bytes))
 */
export function markDuplicate(bytes: Buffer): Buffer {
  bytes[0] = (bytes[0] as number) | dupFlag
  return bytes
}
