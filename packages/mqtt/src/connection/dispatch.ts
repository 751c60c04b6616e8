import type { Packet } from '../codec/publish-packet.js'
import { handleConnect } from '../handlers/connect.js'
import { handleDisconnect } from '../handlers/disconnect.js'
import { handlePingreq } from '../handlers/pingreq.js'
import { handlePuback } from '../handlers/puback.js'
import { handlePubcomp } from '../handlers/pubcomp.js'
import { handlePublish } from '../handlers/publish.js'
import { handlePubrec } from '../handlers/pubrec.js'
import { handlePubrel } from '../handlers/pubrel.js'
import { handleSubscribe } from '../handlers/subscribe.js'
import { handleUnsubscribe } from '../handlers/unsubscribe.js'
import type { Connection } from './connection.js'
import { reason } from './reason-codes.js'

/** Routes a decoded packet to its handler, one per packet type (as Mosquitto's handle_*.c). */
export function dispatchPacket(conn: Connection, packet: Packet): void {
  if (conn.state === 'awaiting-connect') {
    // [MQTT-3.1.0-1] the first packet from the client must be CONNECT.
    if (packet.cmd !== 'connect')
      return conn.close(`${packet.cmd} before CONNECT`, { publishWill: false })
    return handleConnect(conn, packet)
  }
  switch (packet.cmd) {
    case 'publish':
      return handlePublish(conn, packet)
    case 'puback':
      return handlePuback(conn, packet)
    case 'pubrec':
      return handlePubrec(conn, packet)
    case 'pubrel':
      return handlePubrel(conn, packet)
    case 'pubcomp':
      return handlePubcomp(conn, packet)
    case 'subscribe':
      return handleSubscribe(conn, packet)
    case 'unsubscribe':
      return handleUnsubscribe(conn, packet)
    case 'pingreq':
      return handlePingreq(conn)
    case 'disconnect':
      return handleDisconnect(conn, packet)
    case 'connect':
      // [MQTT-3.1.0-2] a second CONNECT is a protocol violation.
      return conn.protocolViolation(reason.protocolError, 'a second CONNECT on one connection')
    case 'auth':
      return conn.protocolViolation(
        reason.protocolError,
        'AUTH without an authentication method in CONNECT',
      )
    default:
      // CONNACK, SUBACK, UNSUBACK, PINGRESP are server packets (Mosquitto CVE-2021-28166).
      return conn.protocolViolation(
        reason.protocolError,
        `a client must not send ${packet.cmd.toUpperCase()}`,
      )
  }
}
