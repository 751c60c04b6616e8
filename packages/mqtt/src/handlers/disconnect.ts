import type { IDisconnectPacket } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'
import { reason } from '../connection/reason-codes.js'

/**
 * DISCONNECT from the client: the will is discarded [MQTT-3.14.4-3] unless an MQTT 5 client asks
 * for it with 0x04; an MQTT 5 client may change its session expiry, but not from 0 [MQTT-3.14.2-2].
 */
export function handleDisconnect(conn: Connection, packet: IDisconnectPacket): void {
  const expiry = packet.properties?.sessionExpiryInterval
  const session = conn.session
  if (conn.version === 5 && expiry !== undefined && session !== undefined) {
    if (session.expiryIntervalSec === 0 && expiry !== 0) {
      return conn.protocolViolation(
        reason.protocolError,
        'session expiry set on DISCONNECT after 0 on CONNECT',
      )
    }
    session.setExpiry(
      Math.min(expiry, conn.core.options.limits.maxSessionExpirySec),
      conn.core.persistence,
    )
  }
  const withWill = conn.version === 5 && packet.reasonCode === reason.disconnectWithWill
  conn.close(`DISCONNECT ${String(packet.reasonCode ?? 0)} from the client`, {
    publishWill: withWill,
  })
}
