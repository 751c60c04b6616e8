import type { IPubackPacket } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'

/** PUBACK completes a QoS 1 delivery to the client (MQTT 5 §4.3.2). */
export function handlePuback(conn: Connection, packet: IPubackPacket): void {
  const id = packet.messageId ?? 0
  if (conn.session?.outbox.onPuback(id) !== true)
    conn.debug({ clientId: conn.clientId, packetId: id }, 'PUBACK for an unknown packet id')
}
