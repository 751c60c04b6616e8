import { CloudError } from '../errors.js'

/** One page of a list and the cursor of the next (null on the last page). */
export interface Page<T> {
  readonly items: readonly T[]
  readonly nextCursor: string | null
}

/** An opaque cursor for the key a page ended at. */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url')
}

/** The key inside a cursor; `CLOUD_INVALID` for anything we did not make. */
export function decodeCursor(cursor: string): string {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (typeof v === 'object' && v !== null && typeof (v as { k?: unknown }).k === 'string')
      return (v as { k: string }).k
  } catch {
    // fall through to the error below
  }
  throw new CloudError('CLOUD_INVALID', 'the cursor is not one this API returned', {
    hint: 'Pass nextCursor from the previous page unchanged.',
    details: { field: 'cursor' },
  })
}

/**
 * The row number inside a cursor that `pageOf` made from one; undefined without a cursor, and
 * for a cursor of ours that holds no whole number (the first page then).
 */
export function seqCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  const seq = Number(decodeCursor(cursor))
  return Number.isSafeInteger(seq) ? seq : undefined
}

/**
 * A page from `rows` that were fetched with `limit + 1`: the first `limit`, and the cursor of the
 * last of those (its key by `keyOf`) when there was one more.
 *
 * @example
 * const rows = store.list(after, q.limit + 1)
 * return pageOf(rows, q.limit, (r) => String(r.seq))
 */
export function pageOf<T>(rows: readonly T[], limit: number, keyOf: (row: T) => string): Page<T> {
  const items = rows.slice(0, limit)
  const last = items.at(-1)
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  }
}
