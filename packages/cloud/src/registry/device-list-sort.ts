import { CloudError } from '../errors.js'
import { decodeCursor, encodeCursor } from '../http/cursor.js'

/**
 * Orders of the device list, each served by an index on `(tenant_id, column, id)` (state schema
 * migration 7), so a page at 100,000 devices reads one page of rows. A leading `-` is descending.
 * Last-seen is not among them: it lives in the written-behind presence table, which no tenant
 * index covers (issue 9).
 */
export const deviceListSorts = [
  'id',
  '-id',
  'name',
  '-name',
  'createdAt',
  '-createdAt',
  'state',
  '-state',
] as const
export type DeviceListSort = (typeof deviceListSorts)[number]

const columns = {
  id: 'id',
  name: 'name',
  createdAt: 'created_at',
  state: 'state',
} as const

type SortKey = keyof typeof columns

/** The key of a row for keyset paging: the sort column's value, then the id that breaks ties. */
export type SortValue = string | number

/** The WHERE part after a cursor and the ORDER BY of one sort. */
export interface SortSql {
  readonly after: { readonly sql: string; readonly params: readonly SortValue[] } | undefined
  readonly orderBy: string
}

/**
 * SQL for a sort: `(column, id) > (?, ?)` after the cursor (row values, which SQLite answers
 * with a range scan of the index), ordered by the column then the id.
 */
export function deviceListSortSql(sort: DeviceListSort, cursor: string | undefined): SortSql {
  const descending = sort.startsWith('-')
  const key = (descending ? sort.slice(1) : sort) as SortKey
  const column = columns[key]
  const dir = descending ? 'DESC' : 'ASC'
  const cmp = descending ? '<' : '>'
  const orderBy = key === 'id' ? `id ${dir}` : `${column} ${dir}, id ${dir}`
  if (cursor === undefined) return { after: undefined, orderBy }
  const [value, id] = decodeSortCursor(sort, cursor)
  const after =
    key === 'id'
      ? { sql: `id ${cmp} ?`, params: [id] }
      : { sql: `(${column}, id) ${cmp} (?, ?)`, params: [value, id] }
  return { after, orderBy }
}

/** The cursor after a row: it names its sort, so it is refused under another. */
export function encodeSortCursor(
  sort: DeviceListSort,
  row: { id: string; name: string; createdAt: number; state: string },
): string {
  const key = (sort.startsWith('-') ? sort.slice(1) : sort) as SortKey
  return encodeCursor(JSON.stringify([sort, row[key], row.id]))
}

function decodeSortCursor(sort: DeviceListSort, cursor: string): [SortValue, string] {
  const key = decodeCursor(cursor)
  let parsed: unknown
  try {
    parsed = JSON.parse(key)
  } catch {
    parsed = undefined
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 3 &&
    parsed[0] === sort &&
    (typeof parsed[1] === 'string' || typeof parsed[1] === 'number') &&
    typeof parsed[2] === 'string'
  ) {
    return [parsed[1], parsed[2]]
  }
  throw new CloudError(
    'CLOUD_INVALID',
    `the cursor is not one this API returned for sort=${sort}`,
    {
      hint: 'Pass nextCursor from the previous page unchanged, with the same sort.',
      details: { field: 'cursor' },
    },
  )
}
