import { RuleTopicKind } from '@strata/analytics'
import Type from 'typebox'
import { redactDefinition } from '../../rules/rule-secrets.js'
import type { RuleStatsSource, StoredRule } from '../../rules/rule-types.js'
import { EpochMs } from '../schemas.js'

/** A rule definition in a request: decoded and compiled by the store, which names bad fields. */
export const RuleDefinitionBody = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'a rule definition (docs/rules.md, "The rule JSON"); "********" in place of a secret keeps the saved one',
})

const ErrorJson = Type.Object({ code: Type.String(), message: Type.String() })

export const RuleStatsSchema = Type.Object(
  {
    evaluations: Type.Integer(),
    selected: Type.Integer(),
    matched: Type.Integer(),
    errors: Type.Integer(),
    actionsRun: Type.Integer(),
    actionsFailed: Type.Integer(),
    ratePerSecond: Type.Number({ description: 'evaluations/s of selected messages, last 60 s' }),
    latencyMs: Type.Object({ p50: Type.Number(), p99: Type.Number(), max: Type.Number() }),
    lastError: Type.Optional(Type.Object({ ...ErrorJson.properties, at: EpochMs })),
    lastMatchAt: Type.Optional(EpochMs),
    health: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('disabled')]),
    deadLetters: Type.Integer(),
  },
  { title: 'RuleStats', description: 'counted since the node started' },
)

export const RuleSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer({ description: '1 on create, +1 on each change; the ETag' }),
    enabled: Type.Boolean(),
    definition: Type.Record(Type.String(), Type.Unknown(), {
      description: 'the rule definition as saved, secrets shown as "********"',
    }),
    createdAt: EpochMs,
    updatedAt: EpochMs,
    updatedBy: Type.String({ description: '`user:<id>`, `token:<id>` or `system`' }),
    disabledReason: Type.Optional(
      Type.String({ description: 'why the node disabled it after repeated failures' }),
    ),
    disabledAt: Type.Optional(EpochMs),
    stats: Type.Optional(RuleStatsSchema),
  },
  { title: 'Rule' },
)

export const RuleVersionSchema = Type.Object(
  {
    version: Type.Integer(),
    definition: Type.Record(Type.String(), Type.Unknown()),
    at: EpochMs,
    by: Type.String(),
    change: Type.String({ description: 'create, update, enable, disable or disable-failures' }),
  },
  { title: 'RuleVersion' },
)

export const RuleNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) })

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      maxLength: 256,
      description: 'the version you read ("3", its ETag); 412 when the rule changed since',
    }),
  ),
})

const Context = Type.Object(
  {
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    twin: Type.Optional(
      Type.Object({
        desired: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        reported: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      }),
    ),
  },
  { additionalProperties: false },
)

export const DryRunBody = Type.Object(
  {
    rule: RuleDefinitionBody,
    samples: Type.Array(
      Type.Object(
        {
          deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          kind: Type.Optional(RuleTopicKind),
          topic: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          ts: Type.Optional(Type.Integer({ description: 'epoch ms (default: now)' })),
          payload: Type.Record(Type.String(), Type.Unknown()),
          tags: Type.Optional(Type.Record(Type.String(), Type.String())),
        },
        { additionalProperties: false },
      ),
      { maxItems: 1_000 },
    ),
    context: Type.Optional(Context),
    untilMs: Type.Optional(
      Type.Integer({ description: 'let time pass to here after the last sample (heartbeats)' }),
    ),
  },
  { additionalProperties: false },
)

const Time = Type.Union([Type.Integer(), Type.String({ maxLength: 40 })], {
  description: 'epoch milliseconds, or an RFC 3339 time',
})

export const ReplayBody = Type.Object(
  {
    rule: Type.Union([RuleDefinitionBody, Type.String({ minLength: 1, maxLength: 128 })], {
      description: 'a draft definition, or the name of a saved rule',
    }),
    device: Type.String({ minLength: 1, maxLength: 128 }),
    from: Time,
    to: Time,
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, description: 'messages (default 10,000)' }),
    ),
  },
  { additionalProperties: false },
)

const ResultJson = Type.Object({
  deviceId: Type.String(),
  at: EpochMs,
  selected: Type.Boolean(),
  matched: Type.Boolean(),
  output: Type.Optional(Type.Unknown()),
  actions: Type.Array(Type.Unknown()),
  state: Type.Record(Type.String(), Type.Unknown()),
  missing: Type.Optional(Type.String()),
  error: Type.Optional(ErrorJson),
})

export const DryRunReportSchema = Type.Object(
  {
    steps: Type.Array(
      Type.Object({
        source: Type.Union([Type.Literal('message'), Type.Literal('tick')]),
        index: Type.Optional(Type.Integer()),
        result: ResultJson,
      }),
    ),
    summary: Type.Object({
      messages: Type.Integer(),
      selected: Type.Integer(),
      matched: Type.Integer(),
      errors: Type.Integer(),
    }),
    health: Type.Object({
      status: Type.String({ description: 'ok, failing or disable' }),
      consecutiveFailures: Type.Integer(),
      evaluations: Type.Integer(),
      failures: Type.Integer(),
      lastError: Type.Optional(ErrorJson),
      lastErrorAt: Type.Optional(EpochMs),
      disabledAt: Type.Optional(EpochMs),
    }),
    window: Type.Optional(
      Type.Object({
        from: EpochMs,
        to: EpochMs,
        messages: Type.Integer(),
        truncated: Type.Boolean(),
      }),
    ),
  },
  { title: 'DryRunReport' },
)

export const DeadLetterSchema = Type.Object(
  {
    seq: Type.Integer(),
    id: Type.String(),
    target: Type.Optional(Type.Unknown()),
    targetLabel: Type.String(),
    message: Type.Unknown(),
    createdAt: EpochMs,
    deadAt: EpochMs,
    attempts: Type.Integer(),
    lastError: Type.Object({
      code: Type.String(),
      message: Type.String(),
      status: Type.Optional(Type.Integer()),
    }),
  },
  { title: 'DeadLetter' },
)

/** A rule as the API shows it: secrets hidden, with the engine's stats when it runs. */
export function ruleJson(rule: StoredRule, stats: RuleStatsSource | undefined) {
  const s = stats?.statsOf(rule.tenantId, rule.name)
  return {
    name: rule.name,
    version: rule.version,
    enabled: rule.enabled,
    definition: redactDefinition(rule.definition),
    createdAt: rule.createdAt,
    updatedAt: rule.updatedAt,
    updatedBy: rule.updatedBy,
    ...(rule.disabledReason === undefined ? {} : { disabledReason: rule.disabledReason }),
    ...(rule.disabledAt === undefined ? {} : { disabledAt: rule.disabledAt }),
    ...(s === undefined ? {} : { stats: s }),
  }
}

/** The ETag of a rule: its version, quoted. */
export function ruleEtag(rule: StoredRule): string {
  return `"${String(rule.version)}"`
}
