import type { IPublishPacket, Packet as MqttPacket } from 'mqtt-packet'
import type { UserProperties } from '../message.js'

/**
 * The properties of a PUBLISH as our codec reads and writes them: mqtt-packet's, except that
 * User Properties are an ordered list of pairs, not an object keyed by name, so their order
 * survives [MQTT-3.3.2-18].
 */
export type PublishProperties = Omit<
  NonNullable<IPublishPacket['properties']>,
  'userProperties'
> & {
  userProperties?: UserProperties
}

/** A PUBLISH as `decodePublish` returns it and `encodePublish` takes it. */
export type PublishPacket = Omit<IPublishPacket, 'properties'> & {
  properties?: PublishProperties
}

/** A packet a connection decodes or sends: mqtt-packet's shapes, with PUBLISH as ours. */
export type Packet = Exclude<MqttPacket, IPublishPacket> | PublishPacket
