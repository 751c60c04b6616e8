/** Bucket widths the chart asks the node for, smallest first (ms). */
const steps = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000,
  604_800_000,
]

/**
 * The bucket for a visible range drawn `widthPx` wide: about one bucket per 2 px, rounded up to a
 * round width, so a year and a minute both come back as a few hundred aggregates.
 *
 * @example
 * bucketFor(3_600_000, 800) // 10_000: an hour, 800 px wide → 10 s buckets (360 of them)
 */
export function bucketFor(spanMs: number, widthPx: number): number {
  const wanted = spanMs / Math.max(50, widthPx / 2)
  return steps.find((s) => s >= wanted) ?? (steps[steps.length - 1] as number)
}

export interface TimeRange {
  readonly from: number
  readonly to: number
}

export const presetRanges: readonly { readonly label: string; readonly ms: number }[] = [
  { label: '15 min', ms: 15 * 60_000 },
  { label: '1 h', ms: 3_600_000 },
  { label: '6 h', ms: 6 * 3_600_000 },
  { label: '24 h', ms: 86_400_000 },
  { label: '7 d', ms: 7 * 86_400_000 },
  { label: '30 d', ms: 30 * 86_400_000 },
]
