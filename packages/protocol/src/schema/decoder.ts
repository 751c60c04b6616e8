import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { ProtocolError } from '../errors/protocol-error.js'

/** A function that checks an unknown value against a schema and returns it typed, or throws. */
export type Decoder<T> = (value: unknown, what?: string) => T

/** How many schema violations one error message lists before it says "and N more". */
const maxListedViolations = 3

/**
 * Compiles a TypeBox schema into a decoder for values that cross a process boundary. The decoder
 * throws `PROTOCOL_INVALID` naming every bad field by its JSON pointer (up to three of them).
 *
 * @example
 * const decodePoint = decoder(Type.Object({ x: Type.Number() }))
 * decodePoint({ x: 'a' }, 'point') // throws: point /x must be number
 */
export function decoder<S extends TSchema>(schema: S): Decoder<Static<S>> {
  const validator = Compile(schema)
  return (value: unknown, what = 'value'): Static<S> => {
    if (validator.Check(value)) return value
    const errors = summarise(validator.Errors(value))
    const listed = errors.slice(0, maxListedViolations)
    const parts = listed.map((e) => `${e.path === '' ? '(root)' : e.path} ${e.message}`)
    const more =
      errors.length > listed.length ? ` (and ${String(errors.length - listed.length)} more)` : ''
    throw new ProtocolError('PROTOCOL_INVALID', `${what}: ${parts.join('; ')}${more}`, {
      details: { violations: listed },
    })
  }
}

interface Violation {
  readonly path: string
  readonly message: string
}

/**
 * One line per bad field: the `type` errors of a union's branches fold into "must be number or
 * string", the union's own "must match a schema in anyOf" and the per-key "schema is false" of
 * additionalProperties (its own error names the key) are dropped.
 */
function summarise(errors: readonly ValidationError[]): Violation[] {
  const types = new Map<string, string[]>()
  const out: Violation[] = []
  for (const e of errors) {
    if (e.keyword === 'type' && 'type' in e.params) {
      const list = types.get(e.instancePath) ?? []
      if (list.length === 0) out.push({ path: e.instancePath, message: '' })
      list.push(e.params.type === 'bigint' ? 'integer' : String(e.params.type))
      types.set(e.instancePath, list)
    } else if (e.keyword === 'anyOf' && types.has(e.instancePath)) {
      continue
    } else if (!(e.keyword === 'boolean' && e.message === 'schema is false')) {
      out.push({ path: e.instancePath, message: describe(e) })
    }
  }
  return out.map((v) => {
    const list = types.get(v.path)
    return v.message === '' && list !== undefined
      ? { path: v.path, message: `must be ${joinOr(list)}` }
      : v
  })
}

function joinOr(words: readonly string[]): string {
  return words.length <= 1
    ? (words[0] ?? '')
    : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1] ?? ''}`
}

interface ValidationError {
  readonly keyword: string
  readonly instancePath: string
  readonly message: string
  readonly params: object
}

function describe(e: ValidationError): string {
  if (e.keyword === 'additionalProperties' && 'additionalProperties' in e.params) {
    const keys = e.params.additionalProperties
    return `has unknown properties ${Array.isArray(keys) ? keys.map((k) => JSON.stringify(k)).join(', ') : ''}`
  }
  return e.message
}
