import type { IPubcompPacket } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'

/** PUBCOMP ends a QoS 2 delivery to the client. */
export function handlePubcomp(conn: Connection, packet: IPubcompPacket): void {
  const id = packet.messageId ?? 0
  if (conn.session?.outbox.onPubcomp(id) !== true)
    conn.debug({ clientId: conn.clientId, packetId: id }, 'PUBCOMP for an unknown packet id')
}
