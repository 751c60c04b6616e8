import { decoder, Name, ProtocolError } from '@strata/protocol'
import Type, { type Static } from 'typebox'
import { AnalyticsError } from '../errors.js'
import { actionSchemas, checkAction, RuleAction } from './rule-actions.js'
import { checkOperator, CelSource, OperatorDefinition, operatorSchemas } from './rule-operators.js'
import { parseLabelSelector } from './label-selector.js'

/** The topic kinds a rule can match: what devices send that carries data. */
export const RuleTopicKind = Type.Union([
  Type.Literal('telemetry'),
  Type.Literal('event'),
  Type.Literal('twin.reported'),
  Type.Literal('command.response'),
  Type.Literal('firmware.progress'),
])
export type RuleTopicKind = Static<typeof RuleTopicKind>

export const ruleLimits = { maxOperators: 16, maxActions: 16, maxMetrics: 64 } as const

/** Which messages a rule looks at. Every field narrows; absent fields match everything. */
export const RuleMatch = Type.Object(
  {
    /** Topic kinds (default: all of them). */
    topicKinds: Type.Optional(Type.Array(RuleTopicKind, { minItems: 1, uniqueItems: true })),
    /** A device label selector, e.g. `site=berlin,!retired` (default: every device). */
    devices: Type.Optional(Type.String({ maxLength: 4096 })),
    /** The message's payload carries at least one of these fields (default: any payload). */
    metrics: Type.Optional(Type.Array(Name, { minItems: 1, maxItems: ruleLimits.maxMetrics })),
  },
  { additionalProperties: false },
)
export type RuleMatch = Static<typeof RuleMatch>

/**
 * A rule: which messages it matches, the stateful operators it runs on them, the CEL condition
 * that decides, the CEL transform that shapes the output, and the actions the host runs when it
 * matches. One JSON document, valid or invalid the same way on a gateway and in the cloud.
 *
 * @example
 * // the schema of an HTTP route's body (Fastify + TypeBox)
 * app.post('/rules', { schema: { body: RuleDefinition } }, (req) => compileRule(req.body))
 */
export const RuleDefinition = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    enabled: Type.Boolean(),
    match: Type.Optional(RuleMatch),
    operators: Type.Optional(Type.Array(OperatorDefinition, { maxItems: ruleLimits.maxOperators })),
    /** A CEL bool; absent: every matched message matches. */
    condition: Type.Optional(CelSource),
    /** A CEL map, the output; absent: the output is the payload. */
    transform: Type.Optional(CelSource),
    actions: Type.Array(RuleAction, { maxItems: ruleLimits.maxActions }),
  },
  { additionalProperties: false },
)
export type RuleDefinition = Static<typeof RuleDefinition>

/** The rule with actions and operators checked only for their `type`; each is then checked alone. */
const RuleShape = Type.Object(
  {
    ...RuleDefinition.properties,
    operators: Type.Optional(
      Type.Array(
        Type.Object({ type: Type.Union(Object.keys(operatorSchemas).map((k) => Type.Literal(k))) }),
        {
          maxItems: ruleLimits.maxOperators,
        },
      ),
    ),
    actions: Type.Array(
      Type.Object({ type: Type.Union(Object.keys(actionSchemas).map((k) => Type.Literal(k))) }),
      {
        maxItems: ruleLimits.maxActions,
      },
    ),
  },
  { additionalProperties: false },
)

const decodeShape = decoder(RuleShape)
const decodeRule = decoder(RuleDefinition)
const actionDecoders = new Map(
  Object.entries(actionSchemas).map(([k, schema]) => [k, decoder(schema)]),
)
const operatorDecoders = new Map(
  Object.entries(operatorSchemas).map(([k, schema]) => [k, decoder(schema)]),
)

/**
 * Checks a value (parsed JSON from the API, a file, the gateway's config) against the rule
 * schema and the rules a schema cannot say (unique operator names, exactly one of two fields,
 * safe action targets). Throws `ANALYTICS_RULE_INVALID` naming the field by its JSON pointer.
 * Expressions are checked by {@link compileRule}, which calls this first.
 *
 * @example
 * const rule = decodeRuleDefinition(JSON.parse(body))
 */
export function decodeRuleDefinition(value: unknown): RuleDefinition {
  schemaCheck(() => decodeShape(value, 'rule'), '')
  const shaped = value as { actions: { type: string }[]; operators?: { type: string }[] }
  for (const [i, op] of (shaped.operators ?? []).entries()) {
    schemaCheck(() => operatorDecoders.get(op.type)?.(op, 'rule'), `/operators/${String(i)}`)
  }
  for (const [i, action] of shaped.actions.entries()) {
    schemaCheck(() => actionDecoders.get(action.type)?.(action, 'rule'), `/actions/${String(i)}`)
  }
  const rule = schemaCheck(() => decodeRule(value, 'rule'), '') as RuleDefinition
  const names = new Set<string>()
  for (const [i, op] of (rule.operators ?? []).entries()) {
    if (names.has(op.name))
      invalid(`/operators/${String(i)}/name`, `a second operator named ${op.name}`)
    names.add(op.name)
    const problem = checkOperator(op)
    if (problem !== undefined) invalid(`/operators/${String(i)}/${problem.field}`, problem.message)
  }
  for (const [i, action] of rule.actions.entries()) {
    const problem = checkAction(action)
    if (problem !== undefined) invalid(`/actions/${String(i)}/${problem.field}`, problem.message)
  }
  const selector = rule.match?.devices
  if (selector !== undefined) {
    const parsed = parseLabelSelector(selector)
    if (!parsed.ok) invalid('/match/devices', parsed.reason)
  }
  return rule
}

/** Runs a schema decoder; its `PROTOCOL_INVALID` becomes `ANALYTICS_RULE_INVALID` at `prefix`. */
function schemaCheck(decode: () => unknown, prefix: string): unknown {
  try {
    return decode()
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err
    const listed = (err.details['violations'] ?? []) as { path: string; message: string }[]
    const violations = tidy(listed.map((v) => ({ path: `${prefix}${v.path}`, message: v.message })))
    const text = violations
      .map((v) => `${v.path === '' ? '(root)' : v.path} ${v.message}`)
      .join('; ')
    throw new AnalyticsError('ANALYTICS_RULE_INVALID', `rule: ${text}`, {
      hint: 'Fix the named fields; docs/rules.md describes the rule JSON.',
      details: { violations },
      cause: err,
    })
  }
}

/**
 * One line per field: a union of literals reports "must be equal to constant" once per branch
 * and "must match a schema in anyOf" besides; say instead which values are allowed.
 */
function tidy(
  violations: { path: string; message: string }[],
): { path: string; message: string }[] {
  const out = new Map<string, string>()
  for (const v of violations) {
    let message = v.message
    if (message === 'must be equal to constant' || message === 'must match a schema in anyOf') {
      const allowed = /\/actions\/\d+\/type$/.test(v.path)
        ? Object.keys(actionSchemas)
        : /\/operators\/\d+\/type$/.test(v.path)
          ? Object.keys(operatorSchemas)
          : undefined
      message =
        allowed === undefined
          ? 'is not one of the allowed values'
          : `must be one of ${allowed.join(', ')}`
    }
    const seen = out.get(v.path)
    if (seen === undefined) out.set(v.path, message)
    else if (!seen.includes(message)) out.set(v.path, `${seen}, and ${message}`)
  }
  return [...out].map(([path, message]) => ({ path, message }))
}

function invalid(pointer: string, message: string): never {
  throw new AnalyticsError('ANALYTICS_RULE_INVALID', `rule: ${pointer} ${message}`, {
    hint: 'Fix the named field; docs/rules.md describes the rule JSON.',
    details: { violations: [{ path: pointer, message }] },
  })
}
