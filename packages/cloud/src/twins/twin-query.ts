import { CloudError } from '../errors.js'

/** Where a fleet query looks: the twin's two documents, or the registry's device attributes. */
export type TwinQueryRoot = 'reported' | 'desired' | 'attributes'

/** A literal of a term: a JSON scalar; `raw` keeps an unquoted number's text as written. */
export type TwinQueryValue =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'number'; readonly value: number; readonly raw: string }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'null' }

/** One term of a fleet query. */
export type TwinQueryTerm =
  | {
      readonly op: '=' | '!=' | '<' | '<=' | '>' | '>='
      readonly root: TwinQueryRoot
      readonly path: readonly string[]
      readonly value: TwinQueryValue
    }
  | {
      readonly op: 'exists' | 'missing'
      readonly root: TwinQueryRoot
      readonly path: readonly string[]
    }

export const twinQueryLimits = { maxLength: 2048, maxTerms: 16, maxSegments: 8 } as const

const segmentPattern = /^[A-Za-z0-9_-]{1,128}$/
const termPattern = /^(!?)([A-Za-z0-9_.-]+)\s*(?:(!=|<=|>=|=|<|>)\s*(.*))?$/s
const numberPattern = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/
const roots: ReadonlySet<string> = new Set(['reported', 'desired', 'attributes'])

/**
 * Parses a fleet query: terms joined by `,`, all of which must hold. A term is
 * `root.path OP value` with OP one of `= != < <= > >=`, or `root.path` (the property exists), or
 * `!root.path` (it does not). The root is `reported`, `desired` or `attributes`; path segments are
 * 1–128 of `A–Z a–z 0–9 _ -`. A value is a JSON string (`"2.1"`, commas allowed inside), a
 * number, `true`, `false`, `null`, or bare text (a string). Throws `CLOUD_INVALID` naming the term.
 *
 * @example
 * parseTwinQuery('reported.firmware=2.1,desired.config.interval>=30,!reported.fault')
 */
export function parseTwinQuery(query: string): TwinQueryTerm[] {
  if (query.length > twinQueryLimits.maxLength)
    throw invalid(
      query.slice(0, 40),
      `the query is over ${String(twinQueryLimits.maxLength)} characters`,
    )
  const parts = splitTerms(query)
  if (parts.length > twinQueryLimits.maxTerms)
    throw invalid(query.slice(0, 40), `more than ${String(twinQueryLimits.maxTerms)} terms`)
  return parts.map(parseTerm)
}

function parseTerm(part: string): TwinQueryTerm {
  const m = termPattern.exec(part)
  if (m === null) throw invalid(part, 'write root.path OP value, root.path or !root.path')
  const [, not = '', dotted = '', op, rawValue] = m
  const [root = '', ...path] = dotted.split('.')
  if (!roots.has(root)) throw invalid(part, 'a path starts with reported., desired. or attributes.')
  if (path.length === 0 || path.length > twinQueryLimits.maxSegments)
    throw invalid(part, `a path has 1–${String(twinQueryLimits.maxSegments)} names after its root`)
  if (!path.every((s) => segmentPattern.test(s)))
    throw invalid(part, 'a path name is 1–128 of A–Z a–z 0–9 _ -')
  const r = root as TwinQueryRoot
  if (op === undefined) return { op: not === '' ? 'exists' : 'missing', root: r, path }
  if (not !== '') throw invalid(part, '! only goes before a path without a comparison')
  const value = parseValue(part, (rawValue ?? '').trim())
  if (op !== '=' && op !== '!=' && value.type !== 'number' && value.type !== 'string')
    throw invalid(part, `${op} compares numbers or strings`)
  return { op: op as '=' | '!=' | '<' | '<=' | '>' | '>=', root: r, path, value }
}

function parseValue(part: string, text: string): TwinQueryValue {
  if (text.startsWith('"')) {
    try {
      const value = JSON.parse(text) as unknown
      if (typeof value === 'string') return { type: 'string', value }
    } catch {
      // fall through to the error below
    }
    throw invalid(part, 'a quoted value is one JSON string')
  }
  if (text === 'true' || text === 'false') return { type: 'boolean', value: text === 'true' }
  if (text === 'null') return { type: 'null' }
  if (numberPattern.test(text)) return { type: 'number', value: Number(text), raw: text }
  if (text.length > 1024) throw invalid(part, 'a value is at most 1,024 characters')
  return { type: 'string', value: text }
}

/** Splits on commas outside double quotes (a quoted value may hold commas and `\"`). */
function splitTerms(query: string): string[] {
  const parts: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < query.length; i++) {
    const c = query[i]
    if (quoted && c === '\\') i++
    else if (c === '"') quoted = !quoted
    else if (c === ',' && !quoted) {
      parts.push(query.slice(start, i).trim())
      start = i + 1
    }
  }
  parts.push(query.slice(start).trim())
  return parts
}

/**
 * The terms as an SQLite condition over JSON columns, with its parameters: column expressions come
 * from `columns` (never from input), paths and values are bound parameters.
 */
export function twinQuerySql(
  terms: readonly TwinQueryTerm[],
  columns: Readonly<Record<TwinQueryRoot, string>>,
): { sql: string; params: unknown[] } {
  const sql: string[] = []
  const params: unknown[] = []
  for (const t of terms) {
    const column = columns[t.root]
    const path = `$${t.path.map((s) => `."${s}"`).join('')}`
    const type = `json_type(${column}, ?)`
    const extract = `json_extract(${column}, ?)`
    if (!('value' in t)) {
      sql.push(`${type} IS ${t.op === 'exists' ? 'NOT ' : ''}NULL`)
      params.push(path)
      continue
    }
    const v = t.value
    const equal = (): string => {
      switch (v.type) {
        case 'null':
          params.push(path)
          return `${type} = 'null'`
        case 'boolean':
          params.push(path)
          return `${type} = '${v.value ? 'true' : 'false'}'`
        case 'string':
          params.push(path, path, v.value)
          return `(${type} = 'text' AND ${extract} = ?)`
        case 'number':
          // An unquoted number also finds the same text: firmware=2.1 matches "2.1" and 2.1.
          params.push(path, path, v.value, path, path, v.raw)
          return `((${type} IN ('integer', 'real') AND ${extract} = ?) OR (${type} = 'text' AND ${extract} = ?))`
      }
    }
    if (t.op === '=') sql.push(equal())
    else if (t.op === '!=') sql.push(`COALESCE(${equal()}, 0) = 0`)
    else {
      params.push(path, path, v.type === 'number' || v.type === 'string' ? v.value : null)
      const types = v.type === 'number' ? `IN ('integer', 'real')` : `= 'text'`
      sql.push(`(${type} ${types} AND ${extract} ${t.op} ?)`)
    }
  }
  return { sql: sql.length === 0 ? '1' : sql.join(' AND '), params }
}

function invalid(part: string, why: string): CloudError {
  return new CloudError('CLOUD_INVALID', `twin query term ${JSON.stringify(part)}: ${why}`, {
    hint: 'Write terms like reported.firmware=2.1, desired.config.interval>=30, "!reported.fault", joined by commas.',
    details: { field: 'where' },
  })
}
