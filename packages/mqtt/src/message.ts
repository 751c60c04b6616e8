/** One MQTT 5 User Property: a name and a value, both UTF-8 strings (MQTT 5 §3.3.2.3.7). */
export type UserProperty = readonly [name: string, value: string]

/**
 * A message's User Properties in the order the publisher sent them, names repeated as sent: the
 * server forwards them unchanged and in order [MQTT-3.3.2-17] [MQTT-3.3.2-18].
 *
 * @example
 * const tenant = message.properties.userProperties?.find(([name]) => name === 'tenant')?.[1]
 */
export type UserProperties = readonly UserProperty[]

/** MQTT 5 properties an application message carries end to end (MQTT 5 §3.3.2.3). */
export interface MessageProperties {
  readonly payloadFormatIndicator?: boolean
  /** Seconds, as the publisher set it; the remaining lifetime is derived from `expiresAtMs`. */
  readonly messageExpiryInterval?: number
  readonly contentType?: string
  readonly responseTopic?: string
  readonly correlationData?: Uint8Array
  /** In the order sent, duplicates kept; see {@link UserProperties} and `userPropertyValues`. */
  readonly userProperties?: UserProperties
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

/**
 * Every value of the User Property `name`, in the order sent; empty when there is none.
 *
 * @example
 * const [precision = 'ns'] = userPropertyValues(message.properties, 'precision')
 */
export function userPropertyValues(properties: MessageProperties, name: string): string[] {
  const values: string[] = []
  for (const [n, value] of properties.userProperties ?? []) if (n === name) values.push(value)
  return values
}

/**
 * User Properties from the name-keyed object mqtt-packet produces (CONNECT will properties, and
 * session stores written before `userPropertyList`): names in the object's key order, each
 * name's values in order. The order among names is already lost in such an object: JavaScript
 * puts integer-like keys first.
 */
export function userPropertiesFromRecord(
  record: Readonly<Record<string, string | readonly string[]>>,
): UserProperty[] {
  const pairs: UserProperty[] = []
  for (const [name, values] of Object.entries(record)) {
    if (typeof values === 'string') pairs.push([name, values])
    else for (const value of values) pairs.push([name, value])
  }
  return pairs
}
