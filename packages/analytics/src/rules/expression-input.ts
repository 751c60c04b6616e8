import { toCelValue, ValueError } from './cel-values.js'
import type { ExpressionLimits } from './expression-limits.js'

/** The device as rules see it: its id, labels and attributes from the registry. */
export interface DeviceFacts {
  readonly id: string
  readonly labels?: Readonly<Record<string, string>>
  readonly attributes?: Readonly<Record<string, unknown>>
}

/** The device twin as rules see it. */
export interface TwinFacts {
  readonly desired?: Readonly<Record<string, unknown>>
  readonly reported?: Readonly<Record<string, unknown>>
}

/** The values of an expression's variables; absent ones are empty (`now`: epoch 0). */
export interface ExpressionInput {
  readonly payload?: Readonly<Record<string, unknown>>
  readonly topic?: string
  readonly kind?: string
  readonly tags?: Readonly<Record<string, string>>
  readonly device?: DeviceFacts
  readonly twin?: TwinFacts
  /** Epoch ms or a Date. */
  readonly now?: number | Date
  readonly state?: Readonly<Record<string, unknown>>
}

/** Input already copied and checked against the input limits, reusable across expressions. */
export interface PreparedInput {
  readonly context: Readonly<Record<string, unknown>>
}

/**
 * Copies and checks the variables once, for several expressions; throws `ValueError` naming the
 * path of a value over the input limits or of a type rules cannot read.
 *
 * @example
 * const input = prepareExpressionInput({ payload }, condition.limits)
 * condition.evaluatePrepared(input)
 * transform.evaluatePrepared(input)
 */
export function prepareExpressionInput(
  input: ExpressionInput,
  limits: ExpressionLimits,
): PreparedInput {
  const l = limits.input
  const map = (v: unknown, path: string): unknown => {
    const copy = toCelValue(v ?? {}, path, l)
    if (
      typeof copy !== 'object' ||
      copy === null ||
      Array.isArray(copy) ||
      copy instanceof Date ||
      copy instanceof Uint8Array
    ) {
      throw new ValueError(path, 'must be a map')
    }
    return copy
  }
  const strings = (v: unknown, path: string): unknown => {
    const copy = map(v, path) as Record<string, unknown>
    for (const [k, s] of Object.entries(copy)) {
      if (typeof s !== 'string') throw new ValueError(`${path}/${k}`, 'must be a string')
    }
    return copy
  }
  const device = input.device
  const twin = input.twin
  const now = input.now ?? 0
  const context: Record<string, unknown> = {
    payload: map(input.payload, '/payload'),
    topic: toCelValue(input.topic ?? '', '/topic', l),
    kind: input.kind ?? '',
    tags: strings(input.tags, '/tags'),
    device: {
      id: typeof device?.id === 'string' ? device.id : '',
      labels: strings(device?.labels, '/device/labels'),
      attributes: map(device?.attributes, '/device/attributes'),
    },
    twin: {
      desired: map(twin?.desired, '/twin/desired'),
      reported: map(twin?.reported, '/twin/reported'),
    },
    now: now instanceof Date ? now : new Date(now),
    state: map(input.state, '/state'),
  }
  return { context }
}
