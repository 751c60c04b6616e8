import { Name } from '@strata/protocol'
import Type, { type Static } from 'typebox'

/** A CEL expression in a rule definition (its limits are checked when the rule compiles). */
export const CelSource = Type.String({ minLength: 1, maxLength: 65_536 })

/** An operator's name: how CEL reads its output, `state.<name>`, so it is a CEL identifier. */
export const OperatorName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' })

const Ms = Type.Integer({ minimum: 1, maximum: 31 * 24 * 3_600_000 })
const MsOrZero = Type.Integer({ minimum: 0, maximum: 31 * 24 * 3_600_000 })
const Threshold = Type.Number({ exclusiveMinimum: 0 })

/** Fields every operator has: its name, what it reads, how many keys it tracks. */
const common = {
  name: OperatorName,
  /** A payload field: the operator steps on every message that carries it. */
  metric: Type.Optional(Name),
  /** A CEL expression giving a number or bool, instead of `metric`. */
  input: Type.Optional(CelSource),
  /** Most devices (keys) tracked; default 10 000. */
  maxKeys: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
}

export const DeadbandDefinition = Type.Object(
  {
    ...common,
    type: Type.Literal('deadband'),
    threshold: Type.Optional(Threshold),
    percent: Type.Optional(Threshold),
    maxIntervalMs: Type.Optional(Ms),
  },
  { additionalProperties: false },
)

export const WindowDefinition = Type.Object(
  {
    ...common,
    type: Type.Literal('window'),
    mode: Type.Union([Type.Literal('tumbling'), Type.Literal('sliding')]),
    sizeMs: Type.Optional(Ms),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    maxPoints: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
)

export const RateOfChangeDefinition = Type.Object(
  {
    ...common,
    type: Type.Literal('rateOfChange'),
    counter: Type.Optional(Type.Boolean()),
    maxGapMs: Type.Optional(Ms),
  },
  { additionalProperties: false },
)

const thresholds = {
  direction: Type.Optional(Type.Union([Type.Literal('high'), Type.Literal('low')])),
  above: Type.Optional(Type.Number()),
  below: Type.Optional(Type.Number()),
}

export const ForAtLeastDefinition = Type.Object(
  {
    ...common,
    ...thresholds,
    type: Type.Literal('forAtLeast'),
    forMs: MsOrZero,
    clearForMs: Type.Optional(MsOrZero),
  },
  { additionalProperties: false },
)

export const HysteresisDefinition = Type.Object(
  { ...common, ...thresholds, type: Type.Literal('hysteresis') },
  { additionalProperties: false },
)

export const HeartbeatDefinition = Type.Object(
  { ...common, type: Type.Literal('heartbeat'), timeoutMs: Ms },
  { additionalProperties: false },
)

/** One stateful operator of a rule; its output is `state.<name>` in the rule's expressions. */
export const OperatorDefinition = Type.Union([
  DeadbandDefinition,
  WindowDefinition,
  RateOfChangeDefinition,
  ForAtLeastDefinition,
  HysteresisDefinition,
  HeartbeatDefinition,
])
export type OperatorDefinition = Static<typeof OperatorDefinition>

/** Each operator's schema by its `type`, for precise errors (a union reports every branch). */
export const operatorSchemas = {
  deadband: DeadbandDefinition,
  window: WindowDefinition,
  rateOfChange: RateOfChangeDefinition,
  forAtLeast: ForAtLeastDefinition,
  hysteresis: HysteresisDefinition,
  heartbeat: HeartbeatDefinition,
} as const
export type OperatorType = OperatorDefinition['type']

/** Problems a schema cannot express: mutually exclusive or dependent fields. */
export function checkOperator(
  op: OperatorDefinition,
): { field: string; message: string } | undefined {
  if (op.type === 'heartbeat') {
    if (op.input !== undefined)
      return {
        field: 'input',
        message: 'a heartbeat watches a metric or the whole message, not an input expression',
      }
  } else if ((op.metric === undefined) === (op.input === undefined)) {
    return { field: 'metric', message: 'give exactly one of metric and input' }
  }
  switch (op.type) {
    case 'deadband':
      if ((op.threshold === undefined) === (op.percent === undefined)) {
        return { field: 'threshold', message: 'give exactly one of threshold and percent' }
      }
      return undefined
    case 'window':
      if ((op.sizeMs === undefined) === (op.count === undefined)) {
        return { field: 'sizeMs', message: 'give exactly one of sizeMs and count' }
      }
      if (op.maxPoints !== undefined && (op.mode !== 'sliding' || op.sizeMs === undefined)) {
        return { field: 'maxPoints', message: 'maxPoints applies to sliding time windows only' }
      }
      return undefined
    case 'forAtLeast':
    case 'hysteresis':
      if ((op.above === undefined) !== (op.below === undefined)) {
        return {
          field: 'above',
          message: 'give both above and below, or neither (a bool condition)',
        }
      }
      if (op.above !== undefined && op.below !== undefined && op.below > op.above) {
        return {
          field: 'below',
          message: `below (${String(op.below)}) is greater than above (${String(op.above)})`,
        }
      }
      return undefined
    default:
      return undefined
  }
}
