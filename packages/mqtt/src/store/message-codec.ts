import {
  userPropertiesFromRecord,
  type BrokerMessage,
  type MessageProperties,
  type UserProperty,
} from '../message.js'
import type { RowReader } from './row-reader.js'

/** Values bound, in order, to the columns of the messages table (see sqlite-schema.ts). */
export type MessageParams = [
  id: number,
  topic: string,
  payload: Uint8Array,
  qos: number,
  retain: number,
  properties: string | null,
  createdAtMs: number,
  expiresAtMs: number | null,
  publisherClientId: string | null,
]

/** The row of a message with this id. */
export function messageParams(id: number, m: BrokerMessage): MessageParams {
  return [
    id,
    m.topic,
    m.payload,
    m.qos,
    m.retain ? 1 : 0,
    encodeProperties(m.properties),
    m.createdAtMs,
    m.expiresAtMs ?? null,
    m.publisherClientId ?? null,
  ]
}

/** Decodes the messages row `r` points at. */
export function readMessage(r: RowReader): BrokerMessage {
  const expiresAtMs = r.optNum('expires_at_ms')
  const publisherClientId = r.optText('publisher_client_id')
  const json = r.optText('properties')
  return {
    topic: r.text('topic'),
    payload: r.bytes('payload'),
    qos: r.oneOf('qos', [0, 1, 2] as const),
    retain: r.bool('retain'),
    properties: json === undefined ? {} : decodeProperties(json, r),
    createdAtMs: r.num('created_at_ms'),
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
    ...(publisherClientId === undefined ? {} : { publisherClientId }),
  }
}

/**
 * The properties column as JSON, the way encodeProperties writes it: correlation data in base64,
 * User Properties as `userPropertyList`, an array of `[name, value]` pairs in order. Stores
 * written before that kept them as `userProperties`, an object keyed by name (mqtt-packet's
 * shape, which loses the order among names); decodeProperties still reads that key.
 */
interface StoredProperties extends Omit<MessageProperties, 'correlationData' | 'userProperties'> {
  readonly correlationData?: string
  readonly userPropertyList?: readonly UserProperty[]
  /** The format before `userPropertyList`: read, never written. */
  readonly userProperties?: Readonly<Record<string, string | readonly string[]>>
}

/**
 * MQTT 5 properties as JSON (see {@link StoredProperties}), or null when there are none (most
 * messages, and every MQTT 3.1.1 message): the column then costs one byte.
 */
export function encodeProperties(p: MessageProperties): string | null {
  let empty = true
  for (const key in p) if (p[key as keyof MessageProperties] !== undefined) empty = false
  if (empty) return null
  const { correlationData, userProperties, ...rest } = p
  const stored: StoredProperties = {
    ...rest,
    ...(correlationData === undefined
      ? {}
      : {
          correlationData: Buffer.from(
            correlationData.buffer,
            correlationData.byteOffset,
            correlationData.byteLength,
          ).toString('base64'),
        }),
    ...(userProperties === undefined ? {} : { userPropertyList: userProperties }),
  }
  return JSON.stringify(stored)
}

type Checker = (v: unknown) => boolean

const isString: Checker = (v) => typeof v === 'string'
const propertyCheckers: Readonly<Record<string, Checker>> = {
  payloadFormatIndicator: (v) => typeof v === 'boolean',
  messageExpiryInterval: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
  contentType: isString,
  responseTopic: isString,
  correlationData: isString,
  userPropertyList: (v) =>
    Array.isArray(v) &&
    v.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every(isString)),
  userProperties: (v) =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => isString(x) || (Array.isArray(x) && x.every(isString))),
}

/** Decodes the properties column; a value that is not what encodeProperties wrote is corrupt. */
export function decodeProperties(json: string, r: RowReader): MessageProperties {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return r.fail('column properties is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return r.fail('column properties must be a JSON object')
  }
  for (const [key, v] of Object.entries(value)) {
    const check = Object.hasOwn(propertyCheckers, key) ? propertyCheckers[key] : undefined
    if (check === undefined || !check(v)) return r.fail(`column properties has a bad ${key}`)
  }
  const { correlationData, userPropertyList, userProperties, ...rest } = value as StoredProperties
  if (userPropertyList !== undefined && userProperties !== undefined)
    return r.fail('column properties has both userPropertyList and userProperties')
  const pairs =
    userProperties === undefined ? userPropertyList : userPropertiesFromRecord(userProperties)
  const bytes = correlationData === undefined ? undefined : Buffer.from(correlationData, 'base64')
  return {
    ...rest,
    ...(bytes === undefined
      ? {}
      : { correlationData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) }),
    ...(pairs === undefined ? {} : { userProperties: pairs }),
  }
}
