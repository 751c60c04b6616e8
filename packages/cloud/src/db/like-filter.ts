/**
 * A SQL condition that `text` occurs in any of `columns` — anywhere (`contains`) or at the start
 * (`prefix`) — with `LIKE`'s own `%` and `_` and the escape character taken as plain characters.
 * SQLite's `LIKE` folds ASCII case. Columns are the caller's identifiers, never user input.
 *
 * @example
 * const f = likeFilter(['type', 'message'], 'pump_7', 'contains')
 * // f.sql: "(type LIKE ? ESCAPE '\' OR message LIKE ? ESCAPE '\')", f.args: ['%pump\_7%', …]
 */
export function likeFilter(
  columns: readonly string[],
  text: string,
  mode: 'contains' | 'prefix',
): { sql: string; args: string[] } {
  const escaped = text.replace(/[\\%_]/g, (c) => `\\${c}`)
  const pattern = mode === 'contains' ? `%${escaped}%` : `${escaped}%`
  return {
    sql: `(${columns.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`,
    args: columns.map(() => pattern),
  }
}
