import type { BrokerConfig, BrokerSettings } from '@strata/mqtt'

/**
 * Broker settings from a Mosquitto-style config: the options Mosquitto has map onto ours; what
 * Mosquitto leaves unlimited keeps our default. An unauthorised PUBLISH from a 3.1.1 client is
 * acknowledged and dropped, as Mosquitto does, so existing clients behave the same.
 */
export function brokerSettingsFrom(config: BrokerConfig, version: string): BrokerSettings {
  const maxQos = config.listeners.reduce<0 | 1 | 2>(
    (min, l) => (l.maxQos < min ? l.maxQos : min),
    2,
  )
  const limits = config.limits
  return {
    maxQos,
    retainAvailable: config.retainAvailable,
    sysIntervalSec: config.sysIntervalSec,
    deniedPublishV3: 'drop',
    version: `strata ${version}`,
    limits: {
      maxInflightOut: limits.maxInflightMessages,
      maxQueuedPerSession: limits.maxQueuedMessages,
      maxKeepAliveSec: limits.maxKeepaliveSec,
      ...(limits.maxPacketBytes === undefined ? {} : { maxPacketBytes: limits.maxPacketBytes }),
      ...(limits.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: limits.maxPayloadBytes }),
    },
  }
}
