import type { IUnsubscribePacket } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'
import { reason } from '../connection/reason-codes.js'

/** UNSUBSCRIBE (MQTT 5 §3.10): removes each filter; MQTT 5 says which ones existed. */
export function handleUnsubscribe(conn: Connection, packet: IUnsubscribePacket): void {
  const session = conn.session
  if (session === undefined) return
  // [MQTT-2.2.1-3] a packet identifier is non-zero; [MQTT-3.10.3-2] at least one filter.
  if ((packet.messageId ?? 0) === 0)
    return conn.protocolViolation(reason.protocolError, 'UNSUBSCRIBE with packet identifier 0')
  if (packet.unsubscriptions.length === 0)
    return conn.protocolViolation(reason.protocolError, 'UNSUBSCRIBE without a topic filter')
  const codes = packet.unsubscriptions.map((filter) =>
    conn.core.removeSubscription(session, filter) ? reason.success : reason.noSubscriptionExisted,
  )
  if (conn.version === 5)
    conn.send({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: codes })
  else conn.send({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] })
}
