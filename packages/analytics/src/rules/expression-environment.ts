import { Environment, EvaluationError } from '@marcbachmann/cel-js'
import { regexCost } from './expression-analysis.js'
import type { ExpressionLimits } from './expression-limits.js'
import { SafeRegex } from './regex/safe-regex.js'

/** CEL type names for the fields of one operator's output, e.g. `{ mean: 'double' }`. */
export type StateFieldTypes = Readonly<Record<string, StateFieldType>>
export type StateFieldType = 'bool' | 'double' | 'timestamp'

/**
 * The variables every rule expression sees. `payload` is the message body (for telemetry, one
 * record's values), `device` and `twin` come from the registry, `state` holds the outputs of the
 * rule's stateful operators.
 */
export const expressionVariables = [
  'payload',
  'topic',
  'kind',
  'tags',
  'device',
  'twin',
  'now',
  'state',
] as const

/** Counts evaluation steps of every expression compiled in one environment. */
export interface Meter {
  steps: number
  max: number
  /** Set when a regular expression or the step count went over; the evaluation fails. */
  exceeded: string | undefined
  /** True once the environment's evaluator counts its steps here. */
  instrumented: boolean
}

/** A CEL environment for one rule (or one standalone expression), with its step meter. */
export interface RuleEnvironment {
  readonly env: Environment
  readonly meter: Meter
  readonly regexes: Map<string, SafeRegex>
  readonly limits: ExpressionLimits
  /** Variables whose values are inputs, for the cost estimate. */
  readonly inputs: ReadonlySet<string>
}

const arithmetic = ['+', '-', '*', '/'] as const

/**
 * Builds the environment: the declared variables, `state` typed from the operators (so
 * `state.avg.meen` is a compile-time error), mixed int/double arithmetic (JSON numbers are
 * doubles, CBOR and line-protocol integers are ints: `payload.count + 1` must work for both), and
 * `matches()` on the linear-time matcher.
 */
export function createRuleEnvironment(
  limits: ExpressionLimits,
  state: Readonly<Record<string, StateFieldTypes>> | undefined,
): RuleEnvironment {
  const env = new Environment({
    homogeneousAggregateLiterals: false,
    limits: {
      maxDepth: limits.maxDepth,
      maxAstNodes: limits.maxAstNodes,
      maxListElements: limits.maxLiteralElements,
      maxMapEntries: limits.maxLiteralElements,
      maxCallArguments: 32,
    },
  })
  const meter: Meter = { steps: 0, max: limits.maxCost, exceeded: undefined, instrumented: false }
  const regexes = new Map<string, SafeRegex>()
  env
    .registerVariable('payload', 'map', { description: 'The message body.' })
    .registerVariable('topic', 'string', { description: 'The MQTT topic.' })
    .registerVariable('kind', 'string', { description: 'The topic kind: telemetry, event…' })
    .registerVariable('tags', 'map<string, string>', { description: 'Telemetry record tags.' })
    .registerVariable({
      name: 'device',
      schema: { id: 'string', labels: 'map<string, string>', attributes: 'map' },
    })
    .registerVariable({ name: 'twin', schema: { desired: 'map', reported: 'map' } })
    .registerVariable('now', 'google.protobuf.Timestamp', { description: 'Evaluation time.' })
  if (state === undefined) env.registerVariable('state', 'map')
  else env.registerVariable({ name: 'state', schema: stateSchema(state) })
  for (const op of arithmetic) {
    env.registerOperator(`double ${op} int: double`, (a: number, b: bigint) =>
      mixed(op, a, Number(b)),
    )
    env.registerOperator(`int ${op} double: double`, (a: bigint, b: number) =>
      mixed(op, Number(a), b),
    )
  }
  env.registerFunction('string.matchRe(string): bool', (subject: string, pattern: string) => {
    let re = regexes.get(pattern)
    if (re === undefined) {
      re = SafeRegex.compile(pattern, limits.regex)
      if (regexes.size < 256) regexes.set(pattern, re)
    }
    meter.steps += regexCost(subject.length, re.size)
    if (meter.steps > meter.max) {
      meter.exceeded = 'a regular expression match went over the cost limit'
      throw new EvaluationError(meter.exceeded)
    }
    return re.test(subject)
  })
  return { env, meter, regexes, limits, inputs: new Set(expressionVariables) }
}

function mixed(op: (typeof arithmetic)[number], a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b
    case '-':
      return a - b
    case '*':
      return a * b
    case '/':
      return a / b
  }
}

const celTypeNames: Readonly<Record<StateFieldType, string>> = {
  bool: 'bool',
  double: 'double',
  timestamp: 'google.protobuf.Timestamp',
}

function stateSchema(
  state: Readonly<Record<string, StateFieldTypes>>,
): Record<string, Record<string, string>> {
  const schema: Record<string, Record<string, string>> = {}
  for (const [name, fields] of Object.entries(state)) {
    schema[name] = Object.fromEntries(Object.entries(fields).map(([f, t]) => [f, celTypeNames[t]]))
  }
  return schema
}

/**
 * Makes every node evaluation of `root`'s expression count on the environment's meter. The
 * library evaluates children through `evaluator.run(node, ctx)`; the first evaluation of the
 * root hands us the evaluator, whose `run` we wrap once. The root's own `evaluate` is replaced
 * by the library after its first call, so it is an accessor that keeps our wrapper in front.
 * A test (`meters comprehension steps`) fails if a library update changes this.
 */
export function meterExpression(root: object, renv: RuleEnvironment): void {
  const meter = renv.meter
  const original = (Object.getPrototypeOf(root) as { evaluate: Evaluate }).evaluate
  let inner: Evaluate | undefined
  const wrapper: Evaluate = function (ev, ast, ctx) {
    instrument(ev, meter)
    return (inner ?? original).call(root, ev, ast, ctx)
  }
  Object.defineProperty(root, 'evaluate', {
    configurable: true,
    get: () => wrapper,
    set: (f: Evaluate) => {
      inner = f
    },
  })
}

type Evaluate = (ev: Evaluator, ast: unknown, ctx: unknown) => unknown
interface Evaluator {
  run: (ast: unknown, ctx: unknown) => unknown
}

function instrument(ev: Evaluator, meter: Meter): void {
  if (meter.instrumented) return
  meter.instrumented = true
  const run = ev.run
  ev.run = function (ast, ctx) {
    if (++meter.steps > meter.max) {
      meter.exceeded ??= `evaluation went over ${String(meter.max)} steps`
      throw new EvaluationError(meter.exceeded)
    }
    return run.call(this, ast, ctx)
  }
}
