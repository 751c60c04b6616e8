import { ProtocolError } from '../../errors/protocol-error.js'
import { int64Max, int64Min, timestampMax, uint64Max } from './parse-values.js'
import { ch, codePointName, excerpt, findLoneSurrogate, isControl } from './text.js'
import type { LineFieldValue, LinePoint } from './types.js'

type NameKind = 'measurement' | 'tag key' | 'tag value' | 'field key'

/**
 * Formats points as line protocol, one point per line joined by `\n` (no trailing newline), in
 * the order given. {@link parseLineProtocol} reads the result back to equal points.
 *
 * Escaping follows the spec's "Special characters" table: a measurement escapes comma and space,
 * tag keys, tag values and field keys escape comma, equals sign and space, and string values
 * escape `"` and `\`. Backslashes in names are written as they are: the parser reads a backslash
 * that does not precede a special character as itself, so `a\b` and `a\\,b` (for `a\,b`) come back
 * intact. Floats use `String(n)`, the shortest text that reads back as the same float (`1e+21`,
 * `5e-324`), and `-0` for negative zero. A string value may hold line breaks; they are written as
 * they are, since the spec has no escape for them and the parser allows them inside quotes.
 *
 * Refused with `PROTOCOL_INVALID` (the message names the point's index), because the grammar
 * cannot carry them: empty names and tag values; a measurement starting with `#` (the line would
 * be a comment) or U+FEFF (read back as a byte order mark on the first line); a name ending in a
 * backslash (it would escape the delimiter after it); control characters U+0000..U+001F and U+007F
 * in names (the EBNF has no escape for them); lone surrogates anywhere; NaN and ±Infinity;
 * integers outside int64 or uint64; timestamps outside ±9223372036854775806; duplicate tag or
 * field keys; and a point with no fields.
 *
 * @example
 * formatLineProtocol([{ measurement: 'weather', tags: [['site', 'north field']],
 *   fields: [['temp', { type: 'float', value: 21.5 }], ['n', { type: 'integer', value: 3n }]],
 *   timestamp: 1556813561098000000n }])
 * // 'weather,site=north\\ field temp=21.5,n=3i 1556813561098000000'
 */
export function formatLineProtocol(points: readonly LinePoint[]): string {
  return points.map((point, index) => formatPoint(point, index)).join('\n')
}

function invalid(index: number, what: string): ProtocolError {
  const where = index >= 0 ? `point ${String(index)}: ` : ''
  return new ProtocolError('PROTOCOL_INVALID', `cannot format line protocol: ${where}${what}`, {
    details: index >= 0 ? { point: index } : {},
  })
}

function formatPoint(point: LinePoint, index: number): string {
  let line = formatName(point.measurement, 'measurement', index)
  line += formatTags(point.tags, index)
  line += ' ' + formatFields(point.fields, index)
  if (point.timestamp !== undefined) line += ' ' + formatTimestamp(point.timestamp, index)
  return line
}

function formatTags(tags: LinePoint['tags'], index: number): string {
  const seen = new Set<string>()
  let text = ''
  for (const [key, value] of tags) {
    const escapedKey = formatName(key, 'tag key', index)
    if (seen.has(key)) throw invalid(index, `duplicate tag key ${excerpt(key)}`)
    seen.add(key)
    text += `,${escapedKey}=${formatName(value, 'tag value', index)}`
  }
  return text
}

function formatFields(fields: LinePoint['fields'], index: number): string {
  if (fields.length === 0) throw invalid(index, 'a point needs at least one field')
  const seen = new Set<string>()
  const parts: string[] = []
  for (const [key, value] of fields) {
    const escapedKey = formatName(key, 'field key', index)
    if (seen.has(key)) throw invalid(index, `duplicate field key ${excerpt(key)}`)
    seen.add(key)
    parts.push(`${escapedKey}=${formatValue(value, key, index)}`)
  }
  return parts.join(',')
}

/** Checks a name against what the grammar can express, then escapes it. */
function formatName(name: unknown, kind: NameKind, index: number): string {
  if (typeof name !== 'string' || name === '')
    throw invalid(index, `the ${kind} must be a non-empty string`)
  if (kind === 'measurement' && name.charCodeAt(0) === ch.hash) {
    throw invalid(
      index,
      `measurement ${excerpt(name)} starts with '#', which would make the line a comment`,
    )
  }
  if (kind === 'measurement' && name.charCodeAt(0) === ch.bom) {
    throw invalid(
      index,
      `measurement starts with U+FEFF, which the parser drops as a byte order mark`,
    )
  }
  if (name.charCodeAt(name.length - 1) === ch.backslash) {
    throw invalid(
      index,
      `${kind} ${excerpt(name)} ends with a backslash, which line protocol cannot express`,
    )
  }
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (isControl(c)) {
      throw invalid(
        index,
        `${kind} ${excerpt(name)} contains control character ${codePointName(c)}, which line protocol does not allow in names`,
      )
    }
  }
  checkWellFormed(name, kind, index)
  // Plain character classes: linear, no backtracking.
  return kind === 'measurement' ? name.replace(/[, ]/g, '\\$&') : name.replace(/[, =]/g, '\\$&')
}

function checkWellFormed(text: string, what: string, index: number): void {
  if (findLoneSurrogate(text) !== -1)
    throw invalid(index, `${what} contains a lone UTF-16 surrogate`)
}

function formatValue(field: LineFieldValue, key: string, index: number): string {
  const what = `field ${excerpt(key)}`
  switch (field.type) {
    case 'float':
      return formatFloat(field.value, what, index)
    case 'integer':
      return `${formatInteger(field.value, int64Min, int64Max, `integer ${what}`, index)}i`
    case 'unsigned':
      return `${formatInteger(field.value, 0n, uint64Max, `unsigned ${what}`, index)}u`
    case 'string':
      if (typeof field.value !== 'string') throw invalid(index, `string ${what} must hold a string`)
      checkWellFormed(field.value, `string ${what}`, index)
      return `"${field.value.replace(/["\\]/g, '\\$&')}"`
    case 'boolean':
      if (typeof field.value !== 'boolean')
        throw invalid(index, `boolean ${what} must hold a boolean`)
      return field.value ? 'true' : 'false'
    default:
      throw invalid(
        index,
        `${what} has unknown type ${excerpt(String((field as { type: unknown }).type))}`,
      )
  }
}

function formatFloat(value: number, what: string, index: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalid(index, `float ${what} must be a finite number, not ${String(value)}`)
  }
  // String(-0) is "0"; the grammar reads "-0" back as negative zero.
  return Object.is(value, -0) ? '-0' : String(value)
}

function formatInteger(
  value: bigint,
  min: bigint,
  max: bigint,
  what: string,
  index: number,
): string {
  if (typeof value !== 'bigint') throw invalid(index, `${what} must be a bigint`)
  if (value < min || value > max) {
    throw invalid(
      index,
      `${what} ${String(value)} is out of range (${String(min)} to ${String(max)})`,
    )
  }
  return String(value)
}

function formatTimestamp(value: bigint, index: number): string {
  return formatInteger(value, -timestampMax, timestampMax, 'timestamp', index)
}
