import type { RetentionRule } from '../model/queries.js'
import { retentionFor } from '../model/retention.js'
import type { ChunkRow, NewChunk } from './catalogue.js'
import { planDelete } from './chunk-writer.js'
import { decodeOrQuarantine } from './chunk-quarantine.js'
import type { SeriesEntry } from './series-index.js'
import type { StoreParts } from './store-parts.js'

/** A time range of one series to delete: [from, to) in the store's precision. */
export interface SeriesRange {
  readonly entry: SeriesEntry
  readonly from: number
  readonly to: number
}

/**
 * Deletes ranges from sealed chunks in one transaction; returns the points removed. Runs with
 * nothing unsealed (inside a full checkpoint's step, see `HeadSealing.sealThen`).
 */
export function deleteFromChunks(parts: StoreParts, ranges: readonly SeriesRange[]): number {
  const { catalogue, layout } = parts
  const remove: number[] = []
  const add: NewChunk[] = []
  let points = 0
  for (const { entry, from, to } of ranges) {
    const plan = planDelete(catalogue, entry.id, entry.type, from, to, layout, (c: ChunkRow) =>
      decodeOrQuarantine(parts, entry, c),
    )
    if (plan.remove.length === 0) continue
    remove.push(...plan.remove)
    add.push(...plan.add)
    points += plan.points
    entry.latest = undefined
  }
  catalogue.replaceChunks(remove, add)
  return points
}

/** The ranges retention removes at `now` (store precision): everything older than each rule. */
export function expiredRanges(
  parts: StoreParts,
  rules: readonly RetentionRule[],
  now: number,
): SeriesRange[] {
  const ranges: SeriesRange[] = []
  for (const entry of parts.index.all()) {
    const maxAge = retentionFor(rules, entry.key)
    if (maxAge !== undefined) ranges.push({ entry, from: 0, to: now - maxAge })
  }
  return ranges
}
