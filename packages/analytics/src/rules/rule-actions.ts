import { checkTopic, DeviceId, Name } from '@strata/protocol'
import Type, { type Static } from 'typebox'

/**
 * The actions a rule may name, validated here so that one definition is valid or invalid the same
 * way on a gateway and in the cloud. Running them is the host's job (packages/cloud, the gateway).
 * The webhook, AMQP and NATS actions are the cloud's delivery targets
 * (`packages/cloud/src/rules/delivery/delivery-target.ts`, docs/rule-actions.md), field for field;
 * the cloud adds its network checks (addresses, DNS) when a rule is saved.
 */

const Ms = Type.Integer({ minimum: 1, maximum: 600_000 })

/** Store the output (or, without a transform, the payload) as telemetry of the device. */
export const StoreAction = Type.Object(
  { type: Type.Literal('store'), prefix: Type.Optional(Name) },
  { additionalProperties: false },
)

/**
 * Publish the output on an MQTT topic. `{deviceId}` and `{rule}` in the topic are replaced. Not
 * under `strata/` (the device protocol's namespace) or `$`, and no wildcards.
 */
export const RepublishAction = Type.Object(
  {
    type: Type.Literal('republish'),
    topic: Type.String({ minLength: 1, maxLength: 256 }),
    qos: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)])),
    retain: Type.Optional(Type.Boolean()),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('cbor')])),
  },
  { additionalProperties: false },
)

/** Merge a patch into a twin's desired state: `patch`, or the output; this device or `device`. */
export const SetDesiredAction = Type.Object(
  {
    type: Type.Literal('set-desired'),
    device: Type.Optional(DeviceId),
    patch: Type.Optional(Type.Record(Name, Type.Unknown())),
  },
  { additionalProperties: false },
)

/** Send a command: `params`, or the output, to this device or `device`. */
export const CommandAction = Type.Object(
  {
    type: Type.Literal('command'),
    name: Name,
    device: Type.Optional(DeviceId),
    params: Type.Optional(Type.Record(Name, Type.Unknown())),
    timeoutMs: Type.Optional(Ms),
  },
  { additionalProperties: false },
)

/**
 * Raise an alarm while the rule matches; with `autoClear` (the default) it clears when the rule
 * evaluates to no match for the same device.
 */
export const AlarmAction = Type.Object(
  {
    type: Type.Literal('alarm'),
    name: Name,
    severity: Type.Union([
      Type.Literal('info'),
      Type.Literal('warning'),
      Type.Literal('error'),
      Type.Literal('critical'),
    ]),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
    autoClear: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

/** POST the output as JSON, signed with HMAC-SHA256 using `secret` (docs/rule-actions.md). */
export const WebhookAction = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    secret: Type.String({ minLength: 32, maxLength: 1024 }),
    headers: Type.Optional(
      Type.Record(
        // an HTTP token; values without CR, LF or NUL (no header injection)
        Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$" }),
        Type.String({ maxLength: 1024, pattern: '^[^\\r\\n\\x00]*$' }),
        { maxProperties: 20 },
      ),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
  },
  { additionalProperties: false },
)

/** Publish the output to an AMQP 0-9-1 exchange, with publisher confirms. */
export const AmqpAction = Type.Object(
  {
    type: Type.Literal('amqp'),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    exchange: Type.String({ maxLength: 255, pattern: '^[A-Za-z0-9_.:-]*$' }),
    routingKey: Type.String({ maxLength: 255 }),
    persistent: Type.Optional(Type.Boolean()),
    mandatory: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

/** Publish the output on a NATS subject (no wildcards). */
export const NatsAction = Type.Object(
  {
    type: Type.Literal('nats'),
    servers: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
      minItems: 1,
      maxItems: 10,
    }),
    subject: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\s*>.]+(\\.[^\\s*>.]+)*$' }),
    token: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
)

/** One action of a rule. */
export const RuleAction = Type.Union([
  StoreAction,
  RepublishAction,
  SetDesiredAction,
  CommandAction,
  AlarmAction,
  WebhookAction,
  AmqpAction,
  NatsAction,
])
export type RuleAction = Static<typeof RuleAction>

/** Each action's schema by its `type`, for precise errors (a union reports every branch). */
export const actionSchemas = {
  store: StoreAction,
  republish: RepublishAction,
  'set-desired': SetDesiredAction,
  command: CommandAction,
  alarm: AlarmAction,
  webhook: WebhookAction,
  amqp: AmqpAction,
  nats: NatsAction,
} as const
export type RuleActionType = RuleAction['type']

/** Headers a webhook may not set: Strata's own, and those the HTTP client owns. */
const reservedHeader =
  /^(x-strata-.*|host|content-type|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer|expect|proxy-.*)$/i

/** Problems a schema cannot express; the field is relative to the action. */
export function checkAction(action: RuleAction): { field: string; message: string } | undefined {
  switch (action.type) {
    case 'republish': {
      const topic = action.topic.replaceAll('{deviceId}', 'd').replaceAll('{rule}', 'r')
      if (topic.startsWith('$') || topic === 'strata' || topic.startsWith('strata/')) {
        return {
          field: 'topic',
          message: 'rules do not publish under strata/ (the device protocol) or $ topics',
        }
      }
      const check = checkTopic(topic, 'name')
      return check.ok ? undefined : { field: 'topic', message: check.reason }
    }
    case 'webhook': {
      const bad = checkUrl(action.url, ['http:', 'https:'], false)
      if (bad !== undefined) return { field: 'url', message: bad }
      for (const h of Object.keys(action.headers ?? {})) {
        if (reservedHeader.test(h)) {
          return { field: `headers/${h}`, message: 'is set by Strata and cannot be overridden' }
        }
      }
      return undefined
    }
    case 'amqp': {
      const bad = checkUrl(action.url, ['amqp:', 'amqps:'], true)
      return bad === undefined ? undefined : { field: 'url', message: bad }
    }
    case 'nats': {
      for (const [i, server] of action.servers.entries()) {
        const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`
        const bad = checkUrl(url, ['nats:', 'tls:'], false)
        if (bad !== undefined) return { field: `servers/${String(i)}`, message: bad }
      }
      return undefined
    }
    default:
      return undefined
  }
}

function checkUrl(
  text: string,
  schemes: readonly string[],
  credentials: boolean,
): string | undefined {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'is not a URL'
  }
  if (!schemes.includes(url.protocol)) {
    return `has scheme ${url.protocol.replace(/:$/, '')}; only ${schemes.map((x) => x.replace(/:$/, '')).join(' or ')}`
  }
  if (!credentials && (url.username !== '' || url.password !== '')) return 'has credentials in it'
  if (url.hostname === '') return 'has no host'
  return undefined
}
