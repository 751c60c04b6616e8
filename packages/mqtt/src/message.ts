/** MQTT 5 properties an application message carries end to end (MQTT 5 §3.3.2.3). */
export interface MessageProperties {
  readonly payloadFormatIndicator?: boolean
  /** Seconds, as the publisher set it; the remaining lifetime is derived from `expiresAtMs`. */
  readonly messageExpiryInterval?: number
  readonly contentType?: string
  readonly responseTopic?: string
  readonly correlationData?: Uint8Array
  readonly userProperties?: Readonly<Record<string, string | readonly string[]>>
}

/**
 * An application message inside the broker: what a client published, independent of any
 * connection, packet id or protocol version. Immutable once created; deliveries share it.
 */
export interface BrokerMessage {
  readonly topic: string
  readonly payload: Uint8Array
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  readonly properties: MessageProperties
  /** When the broker accepted it (epoch ms). */
  readonly createdAtMs: number
  /** When it expires (epoch ms), from the message expiry interval; absent: never. */
  readonly expiresAtMs?: number
  /** The client id of the publisher, for no-local; absent for messages the broker made. */
  readonly publisherClientId?: string
}
