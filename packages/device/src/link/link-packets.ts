import mqttPacket, { type IPublishPacket, type ISubscription, type Packet } from 'mqtt-packet'
import type { LinkAuth, LinkConfig } from './link-types.js'

/**
 * The packets a link sends, encoded: plain functions of the link's identity and the fleet's
 * {@link LinkConfig}, so a link keeps no packet templates or options objects of its own.
 */

/** Publish properties a link passes through (MQTT 5). */
export type PublishProperties = IPublishPacket['properties']

/** An MQTT protocol level: 4 is 3.1.1, 5 is 5.0. */
type Version = 4 | 5

// One options object per protocol version for every `generate` of the process.
const v4 = { protocolVersion: 4 } as const
const v5 = { protocolVersion: 5 } as const

/** The shared `mqtt-packet` generate options of `version`. */
export function generateOptions(version: Version): { protocolVersion: Version } {
  return version === 5 ? v5 : v4
}

/**
 * CONNECT for `clientId`: credentials from `auth`, and on MQTT 5 the session expiry and the
 * largest packet we accept.
 *
 * @example
 * socket.write(connectBytes('pump-7', { kind: 'none' }, config))
 */
export function connectBytes(clientId: string, auth: LinkAuth, config: LinkConfig): Buffer {
  const c = config
  const packet: Packet = {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: c.protocolVersion,
    clientId,
    clean: c.cleanStart,
    keepalive: c.keepAliveS,
    ...(auth.kind === 'password'
      ? { username: auth.username, password: Buffer.from(auth.password) }
      : {}),
    ...(c.protocolVersion === 5
      ? {
          properties: {
            sessionExpiryInterval: c.sessionExpiryS,
            maximumPacketSize: c.maxIncomingBytes,
          },
        }
      : {}),
  }
  return mqttPacket.generate(packet, generateOptions(c.protocolVersion))
}

/**
 * PUBLISH of `payload` to `topic`, never retained, DUP clear. `messageId` is used at QoS 1 only;
 * `properties` are sent on MQTT 5 only.
 *
 * @example
 * const bytes = publishBytes('devices/pump-7/telemetry', payload, 1, 42, undefined, 5)
 */
export function publishBytes(
  topic: string,
  payload: Buffer,
  qos: 0 | 1,
  messageId: number,
  properties: PublishProperties | undefined,
  version: Version,
): Buffer {
  const packet: IPublishPacket = { cmd: 'publish', topic, payload, qos, retain: false, dup: false }
  if (qos === 1) packet.messageId = messageId
  if (properties !== undefined && version === 5) packet.properties = properties
  return mqttPacket.generate(packet, generateOptions(version))
}

/**
 * SUBSCRIBE with packet id `messageId`.
 *
 * @example
 * const bytes = subscribeBytes(7, [{ topic: 'devices/pump-7/commands/+', qos: 1 }], 5)
 */
export function subscribeBytes(
  messageId: number,
  subscriptions: ISubscription[],
  version: Version,
): Buffer {
  const packet: Packet = { cmd: 'subscribe', messageId, subscriptions }
  return mqttPacket.generate(packet, generateOptions(version))
}

/**
 * DISCONNECT; the reason code goes on the wire on MQTT 5 only.
 *
 * @example
 * const bytes = disconnectBytes(0, 5)
 */
export function disconnectBytes(reasonCode: number, version: Version): Buffer {
  const packet: Packet = version === 5 ? { cmd: 'disconnect', reasonCode } : { cmd: 'disconnect' }
  return mqttPacket.generate(packet, generateOptions(version))
}

/**
 * PINGREQ (the same two bytes on 3.1.1 and 5).
 *
 * @example
 * socket.write(pingreqBytes())
 */
export function pingreqBytes(): Buffer {
  return mqttPacket.generate({ cmd: 'pingreq' })
}

/**
 * The acknowledgement `cmd` of packet id `messageId`: PUBACK for an incoming QoS 1 PUBLISH,
 * PUBREC / PUBCOMP for the QoS 2 exchange a broker may start anyway.
 *
 * @example
 * const bytes = ackBytes('puback', 12, 5)
 */
export function ackBytes(
  cmd: 'puback' | 'pubrec' | 'pubcomp',
  messageId: number,
  version: Version,
): Buffer {
  const packet = { cmd, messageId } as Packet
  return mqttPacket.generate(packet, generateOptions(version))
}
