import type { Connection } from '../connection/connection.js'

/** PINGREQ → PINGRESP [MQTT-3.12.4-1]; receiving it already refreshed the keep-alive. */
export function handlePingreq(conn: Connection): void {
  conn.send({ cmd: 'pingresp' })
}
