import type { Connection } from '../connection/connection.js'

/** The MQTT 5 reason string of a refusal, unless the client asked for none [MQTT-3.1.2-29]. */
export function reasonString(
  conn: Connection,
  why: string | undefined,
): { properties?: { reasonString: string } } {
  return why === undefined || !conn.requestProblemInformation
    ? {}
    : { properties: { reasonString: why.slice(0, 256) } }
}
