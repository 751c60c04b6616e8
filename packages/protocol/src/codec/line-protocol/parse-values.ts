import type { LineCursor } from './line-cursor.js'
import type { LineFieldValue } from './types.js'
import { ch, excerpt, exceedsUtf8Bytes, isDigit } from './text.js'

export const int64Min = -(2n ** 63n)
export const int64Max = 2n ** 63n - 1n
export const uint64Max = 2n ** 64n - 1n
/** Spec, "Unix timestamp": ±9223372036854775806 (InfluxDB keeps the two int64 extremes). */
export const timestampMax = 2n ** 63n - 2n

/** Spec, "Boolean": the only accepted spellings. */
const booleans: ReadonlyMap<string, boolean> = new Map([
  ...['t', 'T', 'true', 'True', 'TRUE'].map((s) => [s, true] as const),
  ...['f', 'F', 'false', 'False', 'FALSE'].map((s) => [s, false] as const),
])

/** Reads the value after `key=`, and checks that a `,`, a space or the line end follows it. */
export function parseFieldValue(cursor: LineCursor, key: string): LineFieldValue {
  const start = cursor.pos
  const c = cursor.at(start)
  let value: LineFieldValue
  if (c === ch.quote) value = parseStringValue(cursor, key)
  else if (c === ch.lowerT || c === ch.upperT || c === ch.lowerF || c === ch.upperF) {
    value = parseBooleanValue(cursor, key)
  } else if (c === ch.minus || c === ch.dot || isDigit(c)) value = parseNumberValue(cursor, key)
  else {
    cursor.fail(
      start,
      `expected a value for field ${excerpt(key)} (a float like 1.5, an integer like 1i, an unsigned like 1u, a "string" or true/false), found ${cursor.describe(start)}`,
    )
  }
  if (!isValueEnd(cursor, cursor.pos)) {
    cursor.fail(
      cursor.pos,
      `unexpected ${cursor.describe(cursor.pos)} after the value of field ${excerpt(key)}; expected ',', a space or end of line`,
    )
  }
  return value
}

/**
 * EBNF `stringfield`: `\"` is a quote and `\\` a backslash; a backslash before anything else is
 * itself (spec, "Escaping backslashes" and "Special characters": a field value escapes only double
 * quote and backslash). Line ends are ordinary characters inside the quotes, so a string may span
 * lines: the EBNF, InfluxDB's own parser and influxdata/line-protocol all accept that, and the
 * spec has no escape for a line break. (The spec's note that line protocol "does not support" `\n`
 * in field values is read as: it cannot be escaped, so unquoted values end at one.)
 */
function parseStringValue(cursor: LineCursor, key: string): LineFieldValue {
  const { input } = cursor
  const start = cursor.pos
  let i = start + 1
  let segment = i
  let value = ''
  for (;;) {
    const c = cursor.at(i)
    if (c === ch.quote) break
    if (c === -1) {
      cursor.fail(
        start,
        `unterminated string value of field ${excerpt(key)}: no closing '"' before the end of input`,
      )
    }
    if (c === ch.backslash) {
      const next = cursor.at(i + 1)
      if (next === ch.quote || next === ch.backslash) {
        value += input.slice(segment, i)
        segment = i + 1
        i += 2
        continue
      }
    }
    i++
  }
  value += input.slice(segment, i)
  cursor.pos = i + 1
  const max = cursor.limits.maxStringBytes
  if (exceedsUtf8Bytes(value, max)) {
    cursor.fail(
      start,
      `string value of field ${excerpt(key)} is longer than ${String(max)} bytes`,
      'PROTOCOL_TOO_LARGE',
    )
  }
  return { type: 'string', value }
}

function parseBooleanValue(cursor: LineCursor, key: string): LineFieldValue {
  const start = cursor.pos
  let i = start
  while (!isValueEnd(cursor, i)) i++
  const token = cursor.input.slice(start, i)
  const value = booleans.get(token)
  if (value === undefined) {
    cursor.fail(
      start,
      `invalid value ${excerpt(token)} for field ${excerpt(key)}; a boolean is one of t, T, true, True, TRUE, f, F, false, False, FALSE and a string needs double quotes`,
    )
  }
  cursor.pos = i
  return { type: 'boolean', value }
}

function isValueEnd(cursor: LineCursor, i: number): boolean {
  const c = cursor.at(i)
  return c === ch.comma || c === ch.space || cursor.isEolAt(i)
}

function skipDigits(cursor: LineCursor, i: number): number {
  while (isDigit(cursor.at(i))) i++
  return i
}

/**
 * EBNF `intfield = [ "-" ] decimal_digits "i"`, `uintfield = decimal_digits "u"`, and
 * `floatfield = [ "-" ] ( digits [ "." [ digits ] [ exp ] ] | digits exp | "." digits [ exp ] )`
 * with `exp = ( "e" | "E" ) [ "+" | "-" ] digits`. So `1`, `1.`, `.5`, `-1.5E-3` and `1e+21` are
 * floats; `+1`, `NaN`, `Infinity` and `0x1` are not line protocol at all.
 */
function parseNumberValue(cursor: LineCursor, key: string): LineFieldValue {
  const start = cursor.pos
  const negative = cursor.at(start) === ch.minus
  const intStart = negative ? start + 1 : start
  let i = skipDigits(cursor, intStart)
  const intDigits = i - intStart
  const suffix = cursor.at(i)
  if ((suffix === ch.lowerI || suffix === ch.lowerU) && intDigits > 0) {
    if (negative && suffix === ch.lowerU) {
      cursor.fail(start, `unsigned value of field ${excerpt(key)} cannot be negative`)
    }
    cursor.pos = i + 1
    return suffix === ch.lowerI
      ? {
          type: 'integer',
          value: integerIn(
            cursor,
            start,
            i,
            int64Min,
            int64Max,
            `integer value of field ${excerpt(key)}`,
          ),
        }
      : {
          type: 'unsigned',
          value: integerIn(
            cursor,
            start,
            i,
            0n,
            uint64Max,
            `unsigned value of field ${excerpt(key)}`,
          ),
        }
  }
  let fractionDigits = 0
  if (cursor.at(i) === ch.dot) {
    const end = skipDigits(cursor, i + 1)
    fractionDigits = end - i - 1
    i = end
  }
  if (intDigits + fractionDigits === 0) {
    cursor.fail(
      i,
      `expected a digit in the value of field ${excerpt(key)}, found ${cursor.describe(i)}`,
    )
  }
  i = skipExponent(cursor, i, key)
  const next = cursor.at(i)
  if (next === ch.lowerI || next === ch.lowerU) {
    cursor.fail(
      i,
      `an integer (i) or unsigned (u) value of field ${excerpt(key)} cannot have a decimal point or exponent`,
    )
  }
  cursor.pos = i
  const value = Number(cursor.input.slice(start, i))
  if (!Number.isFinite(value)) {
    cursor.fail(
      start,
      `float value of field ${excerpt(key)} is beyond the float64 range (±1.7976931348623157e308)`,
    )
  }
  return { type: 'float', value }
}

function skipExponent(cursor: LineCursor, i: number, key: string): number {
  const c = cursor.at(i)
  if (c !== ch.lowerE && c !== ch.upperE) return i
  let j = i + 1
  const sign = cursor.at(j)
  if (sign === ch.plus || sign === ch.minus) j++
  const end = skipDigits(cursor, j)
  if (end === j) {
    cursor.fail(
      j,
      `expected exponent digits in the value of field ${excerpt(key)}, found ${cursor.describe(j)}`,
    )
  }
  return end
}

/**
 * The integer written at `[from, to)` (an optional `-`, then digits), if within `[min, max]`.
 * Leading zeros are dropped and over-long digit runs refused before `BigInt` sees them, so a
 * megabyte of digits costs linear time.
 */
export function integerIn(
  cursor: LineCursor,
  from: number,
  to: number,
  min: bigint,
  max: bigint,
  what: string,
): bigint {
  const { input } = cursor
  const negative = input.charCodeAt(from) === ch.minus
  let i = negative ? from + 1 : from
  while (i < to - 1 && input.charCodeAt(i) === ch.zero) i++
  if (to - i <= 20) {
    const magnitude = BigInt(input.slice(i, to))
    const value = negative ? -magnitude : magnitude
    if (value >= min && value <= max) return value
  }
  return cursor.fail(
    from,
    `${what} ${excerpt(input.slice(from, to))} is out of range (${String(min)} to ${String(max)})`,
  )
}

/** EBNF `[ whitespace timestamp ]`: reads an optional timestamp after the field set. */
export function parseTimestamp(cursor: LineCursor): bigint | undefined {
  if (cursor.at(cursor.pos) !== ch.space) return undefined
  cursor.skipSpaces()
  const start = cursor.pos
  if (cursor.isEolAt(start)) return undefined
  const digitsStart = cursor.at(start) === ch.minus ? start + 1 : start
  const end = skipDigits(cursor, digitsStart)
  if (end === digitsStart) {
    cursor.fail(
      end,
      `expected a timestamp (an integer) or end of line, found ${cursor.describe(end)}`,
    )
  }
  if (cursor.at(end) !== ch.space && !cursor.isEolAt(end)) {
    cursor.fail(
      end,
      `unexpected ${cursor.describe(end)} in the timestamp; a timestamp is an integer`,
    )
  }
  cursor.pos = end
  return integerIn(cursor, start, end, -timestampMax, timestampMax, 'timestamp')
}
