/** Loading and querying one of our engines through the public TimeSeriesStore interface. */
import type { AggregateQuery, SeriesBatch, TimeSeriesStore } from '../../packages/tsdb/src/index.js'
import type { Dataset } from './dataset.js'

export const tenant = 'bench'

/** The dataset as write batches of about `batch` points, several series per batch, in time order. */
export function writeBatches(data: Dataset, batch: number, sliceMs: number): SeriesBatch[][] {
  // Time slices across all series, as a fleet's data arrives: every series a little at a time.
  const out: SeriesBatch[][] = []
  let current: SeriesBatch[] = []
  let size = 0
  const cursors = data.series.map(() => 0)
  for (let t = data.start + sliceMs; t < data.end + sliceMs; t += sliceMs) {
    data.series.forEach((s, k) => {
      let i = cursors[k] as number
      const from = i
      while (i < s.times.length && (s.times[i] as number) < t) i++
      cursors[k] = i
      if (i === from) return
      current.push({
        series: { tenant, device: s.device, metric: s.metric, tags: { site: s.site } },
        times: s.times.slice(from, i),
        values: s.values.slice(from, i),
      })
      size += i - from
      if (size >= batch) {
        out.push(current)
        current = []
        size = 0
      }
    })
  }
  if (current.length > 0) out.push(current)
  return out
}

/** Writes every batch, `inFlight` at a time; resolves when all are acknowledged (durable). */
export async function load(
  store: TimeSeriesStore,
  batches: readonly SeriesBatch[][],
  inFlight: number,
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++] as SeriesBatch[]
      await store.write(batch, { backfill: true })
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
}

export function bucketQuery(
  metric: string,
  from: number,
  to: number,
  bucket: number,
  extra: Partial<AggregateQuery> = {},
): AggregateQuery {
  return {
    selector: { tenant, metric },
    from,
    to,
    bucket,
    functions: ['mean', 'min', 'max'],
    ...extra,
  }
}
