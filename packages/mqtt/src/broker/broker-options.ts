/**
 * Limits the broker holds every client to. Each breach is answered with the reason code the
 * MQTT 5 spec gives for it (or the connection is closed on 3.1.1) and logged.
 */
export interface BrokerLimits {
  /** Largest packet accepted, fixed header included (CONNACK Maximum Packet Size). */
  readonly maxPacketBytes: number
  /**
   * Largest PUBLISH payload accepted (Mosquitto's `message_size_limit`); 0: no limit but
   * `maxPacketBytes`. A larger message is dropped and its QoS flow completed, as Mosquitto does:
   * PUBACK/PUBREC 0x97 (quota exceeded) on MQTT 5, a plain acknowledgement on 3.1.1.
   */
  readonly maxPayloadBytes: number
  /** Longest topic name or filter, in UTF-8 bytes, and most levels. */
  readonly maxTopicBytes: number
  readonly maxTopicLevels: number
  /** Longest client id, in UTF-8 bytes. */
  readonly maxClientIdBytes: number
  /** Most subscriptions one session holds; more is SUBACK 0x97 (quota exceeded). */
  readonly maxSubscriptionsPerClient: number
  /** QoS 1/2 PUBLISH a client may have unacknowledged towards us (CONNACK Receive Maximum). */
  readonly receiveMaximum: number
  /** QoS 1/2 messages in flight towards a client when it names no Receive Maximum. */
  readonly maxInflightOut: number
  /** Messages queued for one session (offline, or beyond the in-flight window). */
  readonly maxQueuedPerSession: number
  /** What happens to a message for a full queue: drop it, or drop the oldest queued to make room. */
  readonly queueOverflow: 'drop-new' | 'drop-oldest'
  /** Topic aliases a client may set towards us (CONNACK Topic Alias Maximum). */
  readonly topicAliasMaximum: number
  /** Seconds a client has to send CONNECT after opening the connection (slowloris guard). */
  readonly connectTimeoutSec: number
  /** Upper bound on the keep-alive a client may ask for; longer ones are lowered (Server Keep Alive). 0: no bound. */
  readonly maxKeepAliveSec: number
  /** Upper bound on a session's expiry interval; MQTT 3.1.1 persistent sessions get this value. */
  readonly maxSessionExpirySec: number
  /** Connections open at once; more are refused with CONNACK 0x97 / 0x89 (server busy). */
  readonly maxConnections: number
  /** New connections accepted per second, across the broker. */
  readonly maxConnectsPerSec: number
  /** Bytes buffered for a slow client before it is disconnected. */
  readonly maxWriteBufferBytes: number
}

export const defaultBrokerLimits: BrokerLimits = {
  maxPacketBytes: 1_048_576,
  maxPayloadBytes: 0,
  maxTopicBytes: 1_024,
  maxTopicLevels: 32,
  maxClientIdBytes: 256,
  maxSubscriptionsPerClient: 1_000,
  receiveMaximum: 1_000,
  maxInflightOut: 100,
  maxQueuedPerSession: 10_000,
  queueOverflow: 'drop-oldest',
  topicAliasMaximum: 64,
  connectTimeoutSec: 10,
  maxKeepAliveSec: 0,
  maxSessionExpirySec: 30 * 24 * 3600,
  maxConnections: 1_000_000,
  maxConnectsPerSec: 5_000,
  maxWriteBufferBytes: 8 * 1_048_576,
}

/** How the broker behaves where the spec leaves a choice. */
export interface BrokerOptions {
  readonly limits: BrokerLimits
  /** Highest QoS the broker supports (CONNACK Maximum QoS). */
  readonly maxQos: 0 | 1 | 2
  readonly retainAvailable: boolean
  /**
   * What to do with a PUBLISH the authoriser refuses from an MQTT 3.1.1 client, which has no
   * reason codes: close the connection (the client learns something is wrong), or acknowledge
   * and drop it (what Mosquitto does).
   */
  readonly deniedPublishV3: 'disconnect' | 'drop'
  /** Seconds between `$SYS` updates; 0 turns them off. */
  readonly sysIntervalSec: number
  /** Shown in `$SYS/broker/version`. */
  readonly version: string
}

export const defaultBrokerOptions: BrokerOptions = {
  limits: defaultBrokerLimits,
  maxQos: 2,
  retainAvailable: true,
  deniedPublishV3: 'disconnect',
  sysIntervalSec: 10,
  version: 'strata',
}
