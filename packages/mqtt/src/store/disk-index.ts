import { RowReader } from './row-reader.js'
import type { Statements } from './sqlite-statements.js'
import type { WriteBatch } from './write-batch.js'

interface DiskClient {
  /** No outgoing row of the client has a larger seq. */
  maxSeq: number
  /** Incoming QoS 2 packet ids stored (at most the receive maximum, so small). */
  readonly qos2: Set<number>
}

/**
 * What the file holds per client, as far as cancelling writes needs: which sessions have a row,
 * an upper bound of their outgoing seqs, and their incoming QoS 2 ids. Seqs only grow, so a
 * put with a seq above the bound is not on disk, and a delete of it in the same batch can drop
 * both writes. Memory is per session, not per message. Updated only after a commit succeeds.
 */
export class DiskIndex {
  readonly #clients = new Map<string, DiskClient>()

  /** Reads the index from the file when it is opened. */
  static read(st: Statements): DiskIndex {
    const index = new DiskIndex()
    const sessions = new RowReader('sessions', ['client_id'])
    for (const row of st.selectSessionIds.iterate()) index.#add(sessions.at(row).text('client_id'))
    const outgoing = new RowReader('outgoing', ['client_id'])
    for (const row of st.selectMaxSeqs.iterate()) {
      const r = outgoing.at(row)
      const client = index.#owner(r)
      client.maxSeq = r.int('max_seq')
    }
    const qos2 = new RowReader('incoming_qos2', ['client_id', 'packet_id'])
    for (const row of st.selectIncomingQos2.iterate()) {
      const r = qos2.at(row)
      const client = index.#owner(r)
      client.qos2.add(r.int('packet_id'))
    }
    return index
  }

  /** The client ids with a session row. */
  sessionIds(): IterableIterator<string> {
    return this.#clients.keys()
  }

  hasSession(clientId: string): boolean {
    return this.#clients.has(clientId)
  }

  mayHaveOutgoing(clientId: string, seq: number): boolean {
    const client = this.#clients.get(clientId)
    return client !== undefined && seq <= client.maxSeq
  }

  mayHaveIncomingQos2(clientId: string, packetId: number): boolean {
    return this.#clients.get(clientId)?.qos2.has(packetId) === true
  }

  /** Records what a committed batch wrote. */
  committed(batch: WriteBatch): void {
    for (const [clientId, ops] of batch.clients) {
      if (ops.reset) this.#clients.delete(clientId)
      if (ops.meta !== undefined && !this.#clients.has(clientId)) this.#add(clientId)
      const client = this.#clients.get(clientId)
      if (client === undefined) continue
      for (const [seq, entry] of ops.outgoing) {
        if (entry !== null && seq > client.maxSeq) client.maxSeq = seq
      }
      for (const [packetId, put] of ops.incomingQos2) {
        if (put) client.qos2.add(packetId)
        else client.qos2.delete(packetId)
      }
    }
  }

  #owner(r: RowReader): DiskClient {
    return this.#clients.get(r.text('client_id')) ?? r.fail('belongs to a client without a session')
  }

  #add(clientId: string): void {
    this.#clients.set(clientId, { maxSeq: -Infinity, qos2: new Set() })
  }
}
