import type Database from 'better-sqlite3'
import type { MessageParams } from './message-codec.js'

type Stmt<P extends unknown[] = unknown[], R = unknown> = Database.Statement<P, R>
type ClientKey = [clientId: string]
/** `message_id` of a deleted row, so the commit can drop a message nothing refers to any more. */
type Freed = { message_id: number | null } | undefined

/** Every statement the store runs, prepared once when the file is opened. */
export interface Statements {
  readonly insertMessage: Stmt<MessageParams>
  /** Deletes the message if no outgoing row, retained row or will refers to it. */
  readonly dropMessageIfUnused: Stmt<[id: number]>
  readonly maxMessageId: Stmt<[], number | null>

  readonly deleteSession: Stmt<ClientKey, Freed>
  readonly insertSession: Stmt<
    [string, number, number, number | null, string | null, number | null, number | null]
  >
  readonly deleteSubscriptions: Stmt<ClientKey>
  readonly deleteAllOutgoing: Stmt<ClientKey, { message_id: number }>
  readonly deleteAllIncomingQos2: Stmt<ClientKey>

  readonly putSubscription: Stmt<[string, string, number, number, number, number, number | null]>
  readonly deleteSubscription: Stmt<[clientId: string, filter: string]>
  readonly deleteOutgoing: Stmt<[clientId: string, seq: number], Freed>
  readonly insertOutgoing: Stmt<
    [string, number, string, number | null, number, number, number, string | null]
  >
  readonly putIncomingQos2: Stmt<[clientId: string, packetId: number]>
  readonly deleteIncomingQos2: Stmt<[clientId: string, packetId: number]>
  readonly deleteRetained: Stmt<[topic: string], Freed>
  readonly insertRetained: Stmt<[topic: string, messageId: number]>

  readonly selectMessages: Stmt
  readonly selectSessions: Stmt
  readonly selectSubscriptions: Stmt
  readonly selectOutgoing: Stmt
  readonly selectIncomingQos2: Stmt
  readonly selectRetained: Stmt
  readonly selectSessionIds: Stmt
  readonly selectMaxSeqs: Stmt
}

/** Prepares the statements; fails with "no such table" if the schema is damaged. */
export function prepareStatements(db: Database.Database): Statements {
  const p = <P extends unknown[] = unknown[], R = unknown>(sql: string): Stmt<P, R> =>
    db.prepare<P, R>(sql)
  return {
    insertMessage: p('INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    dropMessageIfUnused: p(
      `DELETE FROM messages WHERE id = ?
         AND NOT EXISTS (SELECT 1 FROM outgoing o WHERE o.message_id = messages.id)
         AND NOT EXISTS (SELECT 1 FROM retained r WHERE r.message_id = messages.id)
         AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.will_message_id = messages.id)`,
    ),
    maxMessageId: p<[], number | null>('SELECT max(id) FROM messages').pluck(),

    deleteSession: p(
      'DELETE FROM sessions WHERE client_id = ? RETURNING will_message_id AS message_id',
    ),
    insertSession: p('INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)'),
    deleteSubscriptions: p('DELETE FROM subscriptions WHERE client_id = ?'),
    deleteAllOutgoing: p('DELETE FROM outgoing WHERE client_id = ? RETURNING message_id'),
    deleteAllIncomingQos2: p('DELETE FROM incoming_qos2 WHERE client_id = ?'),

    putSubscription: p('INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?, ?, ?, ?)'),
    deleteSubscription: p('DELETE FROM subscriptions WHERE client_id = ? AND filter = ?'),
    deleteOutgoing: p('DELETE FROM outgoing WHERE client_id = ? AND seq = ? RETURNING message_id'),
    insertOutgoing: p('INSERT INTO outgoing VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    putIncomingQos2: p('INSERT OR IGNORE INTO incoming_qos2 VALUES (?, ?)'),
    deleteIncomingQos2: p('DELETE FROM incoming_qos2 WHERE client_id = ? AND packet_id = ?'),
    deleteRetained: p('DELETE FROM retained WHERE topic = ? RETURNING message_id'),
    insertRetained: p('INSERT INTO retained VALUES (?, ?)'),

    selectMessages: p('SELECT * FROM messages'),
    selectSessions: p('SELECT * FROM sessions ORDER BY client_id'),
    selectSubscriptions: p('SELECT * FROM subscriptions'),
    selectOutgoing: p('SELECT * FROM outgoing ORDER BY client_id, seq'),
    selectIncomingQos2: p('SELECT * FROM incoming_qos2'),
    selectRetained: p('SELECT * FROM retained'),
    selectSessionIds: p('SELECT client_id FROM sessions'),
    selectMaxSeqs: p('SELECT client_id, max(seq) AS max_seq FROM outgoing GROUP BY client_id'),
  }
}
