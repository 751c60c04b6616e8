import type { BrokerMessage, MessageProperties } from '../message.js'
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
 * MQTT 5 properties as JSON with correlation data in base64, or null when there are none (most
 * messages, and every MQTT 3.1.1 message): the column then costs one byte.
 */
export function encodeProperties(p: MessageProperties): string | null {
  let empty = true
  for (const key in p) if (p[key as keyof MessageProperties] !== undefined) empty = false
  if (empty) return null
  const { correlationData, ...rest } = p
  return JSON.stringify(
    correlationData === undefined
      ? rest
      : {
          ...rest,
          correlationData: Buffer.from(
            correlationData.buffer,
            correlationData.byteOffset,
            correlationData.byteLength,
          ).toString('base64'),
        },
  )
}

type Checker = (v: unknown) => boolean

const isString: Checker = (v) => typeof v === 'string'
const propertyCheckers: Readonly<Record<string, Checker>> = {
  payloadFormatIndicator: (v) => typeof v === 'boolean',
  messageExpiryInterval: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
  contentType: isString,
  responseTopic: isString,
  correlationData: isString,
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
  const props = value as MessageProperties & { correlationData?: string }
  const { correlationData } = props
  if (correlationData === undefined) return props
  const bytes = Buffer.from(correlationData, 'base64')
  return {
    ...props,
    correlationData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  }
}
