import { DeviceId, decoder, isStrataError, type Decoder } from '@strata/protocol'
import Type, { type Static } from 'typebox'
import { CloudError } from '../errors.js'
import { liveTopics, type LiveEvent } from './live-events.js'

/** Limits of what a client may ask for in one subscription. */
export const subscriptionLimits = {
  maxDevices: 1000,
  maxMetrics: 100,
  maxLabelQueryLength: 4096,
} as const

const SubscriptionId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9._:-]+$',
  description: 'chosen by the client: 1–64 of A–Z a–z 0–9 . _ : -',
})

const AuthFrame = Type.Object(
  { type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false },
)

const SubscribeFrame = Type.Object(
  {
    type: Type.Literal('subscribe'),
    id: SubscriptionId,
    // The same names as `liveTopics` (a topic outside it would not index `topicPermissions`).
    topics: Type.Array(
      Type.Union([
        Type.Literal('telemetry'),
        Type.Literal('twin'),
        Type.Literal('presence'),
        Type.Literal('commands'),
        Type.Literal('alarms'),
      ]),
      { minItems: 1, maxItems: liveTopics.length },
    ),
    devices: Type.Optional(
      Type.Array(DeviceId, { minItems: 1, maxItems: subscriptionLimits.maxDevices }),
    ),
    labels: Type.Optional(
      Type.String({ minLength: 1, maxLength: subscriptionLimits.maxLabelQueryLength }),
    ),
    metrics: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        minItems: 1,
        maxItems: subscriptionLimits.maxMetrics,
      }),
    ),
  },
  { additionalProperties: false },
)

const UnsubscribeFrame = Type.Object(
  { type: Type.Literal('unsubscribe'), id: SubscriptionId },
  { additionalProperties: false },
)

const PingFrame = Type.Object({ type: Type.Literal('ping') }, { additionalProperties: false })

export type AuthFrame = Static<typeof AuthFrame>
export type SubscribeFrame = Static<typeof SubscribeFrame>
export type UnsubscribeFrame = Static<typeof UnsubscribeFrame>
export type PingFrame = Static<typeof PingFrame>
/** Every frame a client may send. */
export type ClientFrame = AuthFrame | SubscribeFrame | UnsubscribeFrame | PingFrame

const decoders: Readonly<Record<ClientFrame['type'], Decoder<ClientFrame>>> = {
  auth: decoder(AuthFrame),
  subscribe: decoder(SubscribeFrame),
  unsubscribe: decoder(UnsubscribeFrame),
  ping: decoder(PingFrame),
}

/**
 * Decodes one text frame from a client. Throws `CLOUD_INVALID` naming what is wrong: not JSON,
 * not an object with a known `type`, or a field that breaks its schema.
 *
 * @example
 * decodeClientFrame('{"type":"unsubscribe","id":"s1"}') // { type: 'unsubscribe', id: 's1' }
 */
export function decodeClientFrame(text: string): ClientFrame {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new CloudError('CLOUD_INVALID', `the frame is not JSON: ${(err as Error).message}`, {
      hint: 'Send one JSON object per text frame, e.g. {"type":"subscribe","id":"s1","topics":["telemetry"]}.',
    })
  }
  const type =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as { type?: unknown }).type
      : undefined
  if (typeof type !== 'string' || !Object.hasOwn(decoders, type)) {
    throw new CloudError(
      'CLOUD_INVALID',
      typeof type === 'string'
        ? `unknown frame type ${JSON.stringify(type.slice(0, 40))}`
        : 'the frame is not an object with a string "type"',
      { hint: 'A client sends frames of type auth, subscribe, unsubscribe or ping.' },
    )
  }
  try {
    return decoders[type as ClientFrame['type']](value, `${type} frame`)
  } catch (err) {
    if (!isStrataError(err)) throw err
    throw new CloudError('CLOUD_INVALID', err.message, {
      hint: 'docs/node.md ("Live feed") describes every frame.',
      details: err.details,
    })
  }
}

/** An event as a frame for one subscription: `type` and `subscription` first, then the event. */
export function eventFrame(subscription: string, event: LiveEvent): string {
  const { type, ...rest } = event
  return JSON.stringify({ type, subscription, ...rest })
}

/** An error frame: the code and message of a refused frame, and the subscription it concerns. */
export function errorFrame(
  err: { readonly code: string; readonly message: string; readonly hint?: string | undefined },
  id?: string,
): string {
  return JSON.stringify({
    type: 'error',
    code: err.code,
    message: err.message,
    ...(err.hint === undefined ? {} : { hint: err.hint }),
    ...(id === undefined ? {} : { id }),
  })
}
