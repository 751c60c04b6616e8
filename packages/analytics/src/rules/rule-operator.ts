import { Deadband, type DeadbandOutput } from '../operators/deadband.js'
import { ForAtLeast, type ForAtLeastOutput } from '../operators/for-at-least.js'
import { Heartbeat, type HeartbeatOutput } from '../operators/heartbeat.js'
import { defaultMaxKeys, KeyedState } from '../operators/keyed-state.js'
import { RateOfChange, type RateOfChangeOutput } from '../operators/rate-of-change.js'
import { Window, type WindowOutput } from '../operators/window.js'
import type { StateFieldTypes } from './expression-environment.js'
import type { CompiledExpression } from './rule-expression.js'
import type { OperatorDefinition, OperatorType } from './rule-operators.js'
import { newCelRecord } from './cel-record.js'

/** The output of any operator, as `state.<name>` holds it (timestamps in epoch ms). */
export type OperatorOutput =
  DeadbandOutput | WindowOutput | RateOfChangeOutput | ForAtLeastOutput | HeartbeatOutput

/** What every stream operator has in common. */
export interface StreamOperator {
  step(ts: number, value: number): OperatorOutput | undefined
  readonly output: OperatorOutput | undefined
}

/** The CEL types of each operator's output fields: `state.avg.meen` fails when the rule compiles. */
export const operatorFields: Readonly<Record<OperatorType, StateFieldTypes>> = {
  deadband: { emit: 'bool', value: 'double', last: 'double', delta: 'double' },
  window: {
    count: 'double',
    sum: 'double',
    min: 'double',
    max: 'double',
    mean: 'double',
    stddev: 'double',
    first: 'double',
    last: 'double',
    start: 'timestamp',
    end: 'timestamp',
    complete: 'bool',
    truncated: 'bool',
  },
  rateOfChange: {
    rate: 'double',
    value: 'double',
    previous: 'double',
    intervalMs: 'double',
    reset: 'bool',
  },
  forAtLeast: {
    active: 'bool',
    pending: 'bool',
    since: 'timestamp',
    heldMs: 'double',
    changed: 'bool',
    value: 'double',
  },
  hysteresis: {
    active: 'bool',
    pending: 'bool',
    since: 'timestamp',
    heldMs: 'double',
    changed: 'bool',
    value: 'double',
  },
  heartbeat: { silent: 'bool', lastSeen: 'timestamp', silentMs: 'double', changed: 'bool' },
}

/** One device's instance of an operator. */
export interface KeyedOperator {
  readonly deviceId: string
  readonly op: StreamOperator
}

/** A rule's operator: its definition, its compiled input, and its state per device. */
export class RuleOperator {
  readonly definition: OperatorDefinition
  readonly input: CompiledExpression<'value'> | undefined
  readonly keys: KeyedState<KeyedOperator>
  /** The output fields, and which are timestamps, for {@link stateForCel}. */
  readonly celFields: readonly (readonly [string, boolean])[]

  constructor(definition: OperatorDefinition, input: CompiledExpression<'value'> | undefined) {
    this.definition = definition
    this.input = input
    this.celFields = Object.entries(operatorFields[definition.type]).map(
      ([f, t]) => [f, t === 'timestamp'] as const,
    )
    this.keys = new KeyedState({
      maxKeys: definition.maxKeys ?? defaultMaxKeys,
      overflow: definition.type === 'heartbeat' ? 'reject' : 'evict-oldest',
    })
    this.create() // throws ANALYTICS_OPTIONS_INVALID now rather than on the first message
  }

  get name(): string {
    return this.definition.name
  }

  /**
   * The device's instance, created on first use; undefined when refused (keys full, `reject`).
   * Keyed by device id alone: an operator reads one metric (or one input expression).
   */
  instance(deviceId: string): KeyedOperator | undefined {
    return this.keys.getOrCreate(deviceId, () => ({ deviceId, op: this.create() }))
  }

  /** The device's instance, if it has one, without touching its recency. */
  peek(deviceId: string): KeyedOperator | undefined {
    return this.keys.peek(deviceId)
  }

  create(): StreamOperator {
    const d = this.definition
    switch (d.type) {
      case 'deadband':
        return new Deadband(
          pick({ threshold: d.threshold, percent: d.percent, maxIntervalMs: d.maxIntervalMs }),
        )
      case 'window':
        return new Window({
          mode: d.mode,
          ...pick({ sizeMs: d.sizeMs, count: d.count, maxPoints: d.maxPoints }),
        })
      case 'rateOfChange':
        return new RateOfChange(pick({ counter: d.counter, maxGapMs: d.maxGapMs }))
      case 'forAtLeast':
        return new ForAtLeast({
          forMs: d.forMs,
          ...pick({
            clearForMs: d.clearForMs,
            above: d.above,
            below: d.below,
            direction: d.direction,
          }),
        })
      case 'hysteresis':
        return new ForAtLeast({
          forMs: 0,
          ...pick({ above: d.above, below: d.below, direction: d.direction }),
        })
      case 'heartbeat':
        return new Heartbeat({ timeoutMs: d.timeoutMs })
    }
  }
}

/** Drops undefined fields (the operators' options are `exactOptionalPropertyTypes`). */
function pick<T extends Record<string, unknown>>(
  o: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>
  }
}

/** An operator output as CEL reads it: timestamp fields become `Date`s. */
export function stateForCel(
  output: OperatorOutput,
  fields: readonly (readonly [string, boolean])[],
): Record<string, unknown> {
  const out = newCelRecord()
  const record = output as unknown as Record<string, unknown>
  for (const [field, timestamp] of fields) {
    const v = record[field]
    if (v === undefined) continue
    out[field] = timestamp && typeof v === 'number' ? new Date(v) : v
  }
  return out
}

/** A value from a payload field as an operator takes it: numbers, int64 and bools (as 1/0). */
export function operatorValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'boolean') return v ? 1 : 0
  return undefined
}
