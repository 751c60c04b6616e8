import type { Value, ValueType } from '../model/points.js'

/**
 * How values sit in the points table: one column per type (`f` float8, `i` int8, `b` boolean,
 * `s` text), exactly one set. Floats travel as shortest round-trip text both ways, so they come
 * back bit for bit (except NaN payloads, which PostgreSQL's text format canonicalises).
 */

/** A point row as read: the four value columns, as node-postgres returns them. */
export interface ValueColumns {
  readonly f: number | null
  readonly i: string | null
  readonly b: boolean | null
  readonly s: string | null
}

/** The SQL of a point's value as a float8 for arithmetic (ints rounded, booleans 0 and 1). */
export function numericSql(alias: string): string {
  return `coalesce(${alias}.f, ${alias}.i::float8, ${alias}.b::int::float8)`
}

/**
 * SQL of the split sum of a float8 expression, `sum` and `sum_big`: PostgreSQL raises on a
 * float8 overflow where IEEE arithmetic gives Infinity, so values from 2^500 up (and NaN,
 * Infinity) are summed scaled by 2^-600, which neither partial sum can overflow.
 * {@link splitSumTotal} joins them.
 */
export function splitSumSql(v: string): string {
  const small = `abs(${v}) < power(2::float8, 500)`
  return `sum(CASE WHEN ${small} THEN ${v} END) AS sum,
    sum(CASE WHEN ${small} THEN NULL ELSE ${v} * power(2::float8, -600) END) AS sum_big`
}

/** The total of a split sum (IEEE: may be ±Infinity), or null when nothing was summed. */
export function splitSumTotal(sum: number | null, sumBig: number | null): number | null {
  if (sum === null && sumBig === null) return null
  return (sumBig ?? 0) * 2 ** 600 + (sum ?? 0)
}

/** A value from its row. */
export function decodeValue(row: ValueColumns, type: ValueType): Value {
  switch (type) {
    case 'float':
      return row.f as number
    case 'int':
      return BigInt(row.i as string)
    case 'bool':
      return row.b as boolean
    case 'string':
      return row.s as string
  }
}

/** A value from its row, whichever column holds it (groups may mix series types). */
export function decodeAnyValue(row: ValueColumns): Value | null {
  if (row.f !== null) return row.f
  if (row.i !== null) return BigInt(row.i)
  return row.b ?? row.s
}

/** The value columns of a COPY text row: `f \t i \t b \t s`, `\N` for null. */
export function copyColumns(value: Value): string {
  switch (typeof value) {
    case 'number':
      return `${floatText(value)}\t\\N\t\\N\t\\N`
    case 'bigint':
      return `\\N\t${value.toString()}\t\\N\t\\N`
    case 'boolean':
      return `\\N\t\\N\t${value ? 't' : 'f'}\t\\N`
    default:
      return `\\N\t\\N\t\\N\t${copyText(value)}`
  }
}

/** A float as PostgreSQL float8 input (String() writes -0 as "0"). */
function floatText(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x)
}

/** Escapes text for COPY's text format. */
function copyText(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  )
}
