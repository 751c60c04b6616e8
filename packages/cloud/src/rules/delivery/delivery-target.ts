import Type, { type Static } from 'typebox'

/** The webhook timeout when a target does not name one. */
export const defaultWebhookTimeoutMs = 10_000

/**
 * The fewest characters a webhook signing secret may have, so at least 32 bytes of HMAC key (its
 * UTF-8 bytes). `openssl rand -hex 32` makes a good one (256 random bits).
 */
export const minWebhookSecretBytes = 32

/**
 * A webhook: each message is POSTed as JSON, signed with HMAC-SHA256 (docs/rule-actions.md).
 * The URL is http(s) without credentials; its host must resolve to a public address unless the
 * node operator allows private networks.
 */
export const WebhookTarget = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http or https URL' }),
    secret: Type.String({
      minLength: minWebhookSecretBytes,
      maxLength: 1024,
      description: 'the HMAC-SHA256 key (its UTF-8 bytes), at least 32 characters; stored as given',
    }),
    headers: Type.Optional(
      Type.Record(
        Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$" }),
        Type.String({ maxLength: 1024, pattern: '^[^\\r\\n\\x00]*$' }),
        { maxProperties: 20, description: 'extra request headers (not X-Strata-*, not Host…)' },
      ),
    ),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 60_000,
        default: defaultWebhookTimeoutMs,
        description: 'the whole request, connection to response headers',
      }),
    ),
  },
  { additionalProperties: false, title: 'WebhookTarget' },
)
export type WebhookTarget = Static<typeof WebhookTarget>

/**
 * An AMQP 0-9-1 exchange (RabbitMQ): each message is published with publisher confirms, as
 * persistent unless `persistent` is false, and `mandatory` so an unroutable message is a failure.
 */
export const AmqpTarget = Type.Object(
  {
    type: Type.Literal('amqp'),
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'amqp:// or amqps:// URL, with credentials and vhost',
    }),
    exchange: Type.String({
      maxLength: 255,
      pattern: '^[A-Za-z0-9_.:-]*$',
      description: 'the exchange to publish to ("" is the default exchange)',
    }),
    routingKey: Type.String({ maxLength: 255 }),
    persistent: Type.Optional(Type.Boolean({ default: true })),
    mandatory: Type.Optional(
      Type.Boolean({ default: true, description: 'an unroutable message is a failed delivery' }),
    ),
  },
  { additionalProperties: false, title: 'AmqpTarget' },
)
export type AmqpTarget = Static<typeof AmqpTarget>

/** A NATS subject: each message is published and flushed to the server. */
export const NatsTarget = Type.Object(
  {
    type: Type.Literal('nats'),
    servers: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
      minItems: 1,
      maxItems: 10,
      description: 'nats:// or tls:// URLs without credentials',
    }),
    subject: Type.String({
      minLength: 1,
      maxLength: 256,
      // Dot-separated tokens, no wildcards or whitespace: a publish subject.
      pattern: '^[^\\s*>.]+(\\.[^\\s*>.]+)*$',
    }),
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false, title: 'NatsTarget' },
)
export type NatsTarget = Static<typeof NatsTarget>

/** Where a rule action sends its message. */
export const DeliveryTarget = Type.Union([WebhookTarget, AmqpTarget, NatsTarget], {
  title: 'DeliveryTarget',
})
export type DeliveryTarget = Static<typeof DeliveryTarget>

export type DeliveryTargetType = DeliveryTarget['type']

/** Every target type, for metrics that want a zero for each. */
export const deliveryTargetTypes: readonly DeliveryTargetType[] = ['webhook', 'amqp', 'nats']
