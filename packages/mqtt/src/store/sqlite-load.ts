import type { BrokerMessage } from '../message.js'
import type { Subscription } from '../topics/subscription.js'
import { readMessage } from './message-codec.js'
import { RowReader } from './row-reader.js'
import type { OutgoingEntry, SessionMeta, StoredSession } from './session-store.js'
import type { MessageIds } from './sqlite-commit.js'
import type { Statements } from './sqlite-statements.js'

interface Building {
  readonly meta: SessionMeta
  readonly subscriptions: Subscription[]
  readonly outgoing: OutgoingEntry[]
  readonly incomingQos2: number[]
}

type Messages = ReadonlyMap<number, BrokerMessage>

/**
 * Reads the whole file into sessions and retained messages. Each messages row becomes one object
 * shared by every entry that refers to it (and remembered in `ids`, so writing it back reuses the
 * row). A row that refers to a missing session or message is corruption: it is reported, not
 * skipped, because skipping would silently drop data.
 */
export function loadAll(
  st: Statements,
  ids: MessageIds,
): { sessions: StoredSession[]; retained: BrokerMessage[] } {
  const messages = readMessages(st, ids)
  const sessions = readSessions(st, messages)
  readSubscriptions(st, sessions)
  readOutgoing(st, sessions, messages)
  const qos2 = new RowReader('incoming_qos2', ['client_id', 'packet_id'])
  for (const row of st.selectIncomingQos2.iterate()) {
    const r = qos2.at(row)
    ownerOf(r, sessions).incomingQos2.push(r.int('packet_id'))
  }
  const retained: BrokerMessage[] = []
  const ret = new RowReader('retained', ['topic'])
  for (const row of st.selectRetained.iterate()) retained.push(messageOf(ret.at(row), messages))
  return {
    sessions: [...sessions.values()].map(({ meta, ...rest }) => ({ ...meta, ...rest })),
    retained,
  }
}

function readMessages(st: Statements, ids: MessageIds): Map<number, BrokerMessage> {
  const messages = new Map<number, BrokerMessage>()
  const r = new RowReader('messages', ['id'])
  for (const row of st.selectMessages.iterate()) {
    const id = r.at(row).int('id')
    const message = readMessage(r)
    messages.set(id, message)
    ids.remember(message, id)
  }
  return messages
}

function readSessions(st: Statements, messages: Messages): Map<string, Building> {
  const sessions = new Map<string, Building>()
  const r = new RowReader('sessions', ['client_id'])
  for (const row of st.selectSessions.iterate()) {
    r.at(row)
    const clientId = r.text('client_id')
    const disconnectedAtMs = r.optNum('disconnected_at_ms')
    const identityId = r.optText('identity_id')
    const willId = r.optInt('will_message_id')
    const meta: SessionMeta = {
      clientId,
      protocolVersion: r.oneOf('protocol_version', [3, 4, 5] as const),
      expiryIntervalSec: r.int('expiry_interval_sec'),
      ...(disconnectedAtMs === undefined ? {} : { disconnectedAtMs }),
      ...(identityId === undefined ? {} : { identityId }),
      ...(willId === undefined
        ? {}
        : {
            will: {
              message: messageOf(r, messages, 'will_message_id'),
              publishAtMs: r.num('will_publish_at_ms'),
            },
          }),
    }
    sessions.set(clientId, { meta, subscriptions: [], outgoing: [], incomingQos2: [] })
  }
  return sessions
}

function readSubscriptions(st: Statements, sessions: Map<string, Building>): void {
  const r = new RowReader('subscriptions', ['client_id', 'filter'])
  for (const row of st.selectSubscriptions.iterate()) {
    r.at(row)
    const subscriptionId = r.optInt('subscription_id')
    ownerOf(r, sessions).subscriptions.push({
      filter: r.text('filter'),
      qos: r.oneOf('qos', [0, 1, 2] as const),
      noLocal: r.bool('no_local'),
      retainAsPublished: r.bool('retain_as_published'),
      retainHandling: r.oneOf('retain_handling', [0, 1, 2] as const),
      ...(subscriptionId === undefined ? {} : { subscriptionId }),
    })
  }
}

function readOutgoing(st: Statements, sessions: Map<string, Building>, messages: Messages): void {
  const r = new RowReader('outgoing', ['client_id', 'seq'])
  // ORDER BY client_id, seq: each session's entries arrive in seq order.
  for (const row of st.selectOutgoing.iterate()) {
    r.at(row)
    const packetId = r.optInt('packet_id')
    const subscriptionIds = r.optIntArray('subscription_ids')
    ownerOf(r, sessions).outgoing.push({
      seq: r.int('seq'),
      state: r.textOf('state', ['queued', 'inflight', 'released'] as const),
      ...(packetId === undefined ? {} : { packetId }),
      message: messageOf(r, messages),
      qos: r.oneOf('qos', [0, 1, 2] as const),
      retain: r.bool('retain'),
      ...(subscriptionIds === undefined ? {} : { subscriptionIds }),
    })
  }
}

function ownerOf(r: RowReader, sessions: Map<string, Building>): Building {
  return sessions.get(r.text('client_id')) ?? r.fail('belongs to a client without a session')
}

function messageOf(r: RowReader, messages: Messages, column = 'message_id'): BrokerMessage {
  return messages.get(r.int(column)) ?? r.fail(`column ${column} names a missing message`)
}
