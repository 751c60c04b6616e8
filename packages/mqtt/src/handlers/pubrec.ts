import type { IPubrecPacket } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'
import { reason } from '../connection/reason-codes.js'

/** PUBREC: the client has a QoS 2 message; release it with PUBREL (MQTT 5 §4.3.3). */
export function handlePubrec(conn: Connection, packet: IPubrecPacket): void {
  const id = packet.messageId ?? 0
  if (conn.session?.outbox.onPubrec(id, packet.reasonCode ?? 0) === true) return
  // (MQTT 5 §4.3.3) answer an unknown id with PUBREL so the client can finish its exchange.
  conn.send(
    conn.version === 5
      ? { cmd: 'pubrel', messageId: id, reasonCode: reason.packetIdentifierNotFound }
      : { cmd: 'pubrel', messageId: id },
  )
}
