import type { TelemetryRecord } from '@strata/protocol'
import type { SeriesBatch, Value } from '@strata/tsdb'

/** Who sent telemetry: its series are keyed by tenant and device. */
export interface TelemetrySource {
  readonly tenantId: string
  readonly deviceId: string
}

/**
 * Turns decoded telemetry records into store batches: one series per (metric, tags), records
 * without a time stamped `now`.
 *
 * @example
 * toSeriesBatches({ tenantId: 't', deviceId: 'd' }, [{ values: { temp: 21.5 } }], 1000)
 * // [{ series: { tenant: 't', device: 'd', metric: 'temp' }, times: [1000], values: [21.5] }]
 */
export function toSeriesBatches(
  source: TelemetrySource,
  records: readonly TelemetryRecord[],
  now: number,
): SeriesBatch[] {
  const bySeries = new Map<string, { batch: SeriesBatch; times: number[]; values: Value[] }>()
  for (const record of records) {
    const time = record.ts ?? now
    const tags = record.tags
    const tagKey =
      tags === undefined
        ? ''
        : JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1)))
    for (const [metric, value] of Object.entries(record.values)) {
      const key = `${metric}\u001f${tagKey}`
      let entry = bySeries.get(key)
      if (entry === undefined) {
        const times: number[] = []
        const values: Value[] = []
        const series = {
          tenant: source.tenantId,
          device: source.deviceId,
          metric,
          ...(tags === undefined || Object.keys(tags).length === 0 ? {} : { tags }),
        }
        entry = { batch: { series, times, values }, times, values }
        bySeries.set(key, entry)
      }
      entry.times.push(time)
      entry.values.push(value)
    }
  }
  return [...bySeries.values()].map((e) => e.batch)
}

/** Points in some batches. */
export function pointCount(batches: readonly SeriesBatch[]): number {
  let n = 0
  for (const b of batches) n += b.times.length
  return n
}
