/**
 * Values crossing into and out of CEL. Inputs are copied into null-prototype objects and plain
 * arrays, with every list, string and nesting level checked against the input limits the cost
 * estimate relies on; outputs are copied back into plain JSON-like data. Nothing a rule evaluates
 * is a live object of the caller's: no prototype, getter or function is reachable from CEL.
 */
import { isDataPrototype, newCelRecord } from './cel-record.js'

/** A value a transform outputs: JSON plus int64 (`bigint`) and bytes. Timestamps become epoch ms. */
export type RuleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly RuleValue[]
  | { readonly [key: string]: RuleValue }

/** A transform's output: a map of names to values. */
export type RuleOutput = { readonly [key: string]: RuleValue }

/** Limits every input value (payload, tags, device, twin, state) is checked against. */
export interface InputLimits {
  /** Most elements in one list, or entries in one map. */
  readonly maxListLength: number
  /** Longest string or byte string. */
  readonly maxStringLength: number
  /** Deepest nesting of lists and maps. */
  readonly maxDepth: number
  /** Most values in one input, all levels together. */
  readonly maxNodes: number
}

/** An input or output value that breaks a limit or has a type CEL cannot hold; names its path. */
export class ValueError extends Error {
  readonly path: string

  constructor(path: string, message: string) {
    super(`${path === '' ? '(root)' : path}: ${message}`)
    this.path = path
  }
}

/**
 * Copies `value` into the shapes CEL evaluates: null-prototype objects for maps, arrays for
 * lists, `number` (double), `bigint` (int), strings, booleans, `null`, `Uint8Array`, `Date`.
 * Object keys are copied as data, so a key named `__proto__` stays a key.
 */
export function toCelValue(value: unknown, path: string, limits: InputLimits): unknown {
  const walk = new Walk(path, limits)
  return walk.copy(value, 0)
}

/** One copy: the node budget, and the path as a stack of keys, joined only for an error. */
class Walk {
  readonly #root: string
  readonly #limits: InputLimits
  readonly #keys: string[] = []
  #nodes: number

  constructor(root: string, limits: InputLimits) {
    this.#root = root
    this.#limits = limits
    this.#nodes = limits.maxNodes
  }

  fail(message: string): ValueError {
    return new ValueError(
      `${this.#root}${this.#keys.map((k) => `/${escapePointer(k)}`).join('')}`,
      message,
    )
  }

  copy(value: unknown, depth: number): unknown {
    const limits = this.#limits
    if (--this.#nodes < 0) throw this.fail(`the input has over ${String(limits.maxNodes)} values`)
    switch (typeof value) {
      case 'boolean':
      case 'number':
      case 'bigint':
        return value
      case 'string':
        if (value.length > limits.maxStringLength) throw this.fail(tooLong(value.length, limits))
        return value
      case 'object':
        break
      default:
        throw this.fail(`a ${typeof value} is not a value rules can read`)
    }
    if (value === null) return null
    if (value instanceof Uint8Array) {
      if (value.length > limits.maxStringLength) throw this.fail(tooLong(value.length, limits))
      return value
    }
    if (value instanceof Date) return value
    if (depth >= limits.maxDepth)
      throw this.fail(`nested deeper than ${String(limits.maxDepth)} levels`)
    if (Array.isArray(value)) {
      if (value.length > limits.maxListLength) throw this.fail(tooMany(value.length, limits))
      const out = new Array<unknown>(value.length)
      for (let i = 0; i < value.length; i++) {
        this.#keys.push(String(i))
        out[i] = this.copy((value[i] as unknown) ?? null, depth + 1)
        this.#keys.pop()
      }
      return out
    }
    const entries = this.#entries(value)
    if (entries.length > limits.maxListLength) throw this.fail(tooMany(entries.length, limits))
    const out = newCelRecord()
    for (const [k, v] of entries) {
      if (v === undefined) continue
      this.#keys.push(k)
      out[k] = this.copy(v, depth + 1)
      this.#keys.pop()
    }
    return out
  }

  #entries(value: object): [string, unknown][] {
    if (value instanceof Map) {
      const entries: [string, unknown][] = []
      for (const [k, v] of value as Map<unknown, unknown>) {
        if (typeof k !== 'string') throw this.fail('a map key is not a string')
        entries.push([k, v])
      }
      return entries
    }
    const proto: unknown = Object.getPrototypeOf(value)
    if (!isDataPrototype(proto)) {
      throw this.fail('an object that is not plain data (a class instance)')
    }
    return Object.entries(value)
  }
}

function tooLong(length: number, limits: InputLimits): string {
  return `a string of ${String(length)} characters, over the input limit of ${String(limits.maxStringLength)}`
}

function tooMany(length: number, limits: InputLimits): string {
  return `${String(length)} elements, over the input limit of ${String(limits.maxListLength)} per list or map`
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}

/**
 * Copies a CEL result into plain data: maps to plain objects (a `__proto__` key is dropped),
 * int to `number` when it is a safe integer (else `bigint`), timestamps to epoch ms, durations to
 * ms. Non-finite doubles and values with no JSON form (types, whole `device`/`twin`/`state`
 * records) throw {@link ValueError}.
 */
export function fromCelValue(value: unknown, path = ''): RuleValue {
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value
    case 'number':
      if (!Number.isFinite(value))
        throw new ValueError(path, `the number ${String(value)} has no JSON form`)
      return value
    case 'bigint':
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : value
    case 'object':
      break
    default:
      throw new ValueError(path, `a ${typeof value} cannot be output`)
  }
  if (value === null) return null
  if (value instanceof Uint8Array) return value
  if (value instanceof Date) return value.getTime()
  if (Array.isArray(value))
    return value.map((v: unknown, i) => fromCelValue(v, `${path}/${String(i)}`))
  if (value instanceof Map) {
    if (value.constructor !== Map) {
      throw new ValueError(
        path,
        'a whole device, twin or state record cannot be output; pick its fields',
      )
    }
    return fromEntries([...(value as Map<unknown, unknown>).entries()], path)
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (isDataPrototype(proto)) return fromEntries(Object.entries(value), path)
  const special = libraryValue(value)
  if (special !== undefined) return special
  throw new ValueError(path, `a ${value.constructor.name} cannot be output`)
}

function fromEntries(entries: readonly [unknown, unknown][], path: string): RuleOutput {
  const out: [string, RuleValue][] = []
  for (const [k, v] of entries) {
    const key = typeof k === 'string' ? k : String(k)
    if (key === '__proto__') continue
    out.push([key, fromCelValue(v, `${path}/${escapePointer(key)}`)])
  }
  return Object.fromEntries(out)
}

/**
 * The library's own value classes, recognised by shape because it does not export them: a
 * Duration (seconds and nanos) becomes milliseconds, an UnsignedInt its integer.
 */
function libraryValue(value: object): number | bigint | undefined {
  const v = value as { seconds?: unknown; nanos?: unknown; value?: unknown }
  if (value.constructor.name === 'Duration' && typeof v.seconds === 'bigint') {
    return Number(v.seconds) * 1000 + Math.trunc(Number(v.nanos ?? 0) / 1e6)
  }
  if (value.constructor.name === 'UnsignedInt' && typeof v.value === 'bigint') {
    return v.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v.value) : v.value
  }
  return undefined
}
