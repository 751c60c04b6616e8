import type { IPubrelPacket } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'
import { reason } from '../connection/reason-codes.js'

/**
 * PUBREL releases an incoming QoS 2 message: forget its packet id and answer PUBCOMP. Until now a
 * PUBLISH with the same id was a duplicate, not a new message [MQTT-4.3.3-10].
 */
export function handlePubrel(conn: Connection, packet: IPubrelPacket): void {
  const id = packet.messageId ?? 0
  const session = conn.session
  let known = false
  if (session?.incomingQos2.delete(id) === true) {
    known = true
    session.store?.deleteIncomingQos2(session.clientId, id)
    conn.inboundUnacked = Math.max(0, conn.inboundUnacked - 1)
  }
  if (conn.version === 5 && !known)
    conn.send({ cmd: 'pubcomp', messageId: id, reasonCode: reason.packetIdentifierNotFound })
  else conn.send({ cmd: 'pubcomp', messageId: id })
}
