import { TsdbError } from '../errors.js'

/** Where a range read stopped: the last series' canonical key and the last time it returned. */
export interface RangeCursor {
  readonly series: string
  readonly after: number
}

export function encodeCursor(cursor: RangeCursor): string {
  return Buffer.from(JSON.stringify([cursor.series, cursor.after])).toString('base64url')
}

export function decodeCursor(text: string): RangeCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      Number.isSafeInteger(parsed[1])
    ) {
      return { series: parsed[0], after: parsed[1] as number }
    }
  } catch {
    // reported below
  }
  throw new TsdbError('TSDB_QUERY_INVALID', 'the cursor is not one this store returned', {
    hint: 'Pass the cursor of the previous page unchanged, or none for the first page.',
  })
}
