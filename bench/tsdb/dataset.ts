/**
 * The benchmark's fleet: `series` sensors of the sensor-data.ts mix, each sampling over the same
 * `hours` (count = span / its own period), with a `site` tag spread over ten sites.
 */
import { fleetMix, generateSeries, type SensorKind } from './sensor-data.js'

export interface BenchSeries {
  readonly index: number
  readonly device: string
  readonly metric: SensorKind
  readonly site: string
  readonly type: 'float' | 'int' | 'bool' | 'string'
  readonly times: number[]
  readonly values: (number | bigint | boolean | string)[]
}

export interface Dataset {
  readonly series: BenchSeries[]
  readonly points: number
  readonly start: number
  readonly end: number
}

export const statusCodes: Record<string, number> = {
  ok: 0,
  warning: 1,
  fault: 2,
  maintenance: 3,
  offline: 4,
}

export function generateDataset(seriesCount: number, hours: number, end: number): Dataset {
  const span = hours * 3_600_000
  const start = end - span
  const series: BenchSeries[] = []
  let points = 0
  fleetMix(seriesCount).forEach((kind, index) => {
    const probe = generateSeries(kind, index, 1, start)
    const count = Math.max(1, Math.floor(span / probe.periodMs))
    const s = generateSeries(kind, index, count + 16, start)
    let n = 0
    while (n < s.timestamps.length && (s.timestamps[n] as number) < end) n++
    const times = Array.from(s.timestamps.subarray(0, n))
    let values: BenchSeries['values']
    if (s.type === 'bool')
      values = Array.from((s.values as Uint8Array).subarray(0, n), (v) => v === 1)
    else if (s.type === 'string') values = (s.values as string[]).slice(0, n)
    else
      values = Array.from(
        (
          s.values as ArrayLike<number | bigint> & {
            subarray(a: number, b: number): ArrayLike<number | bigint>
          }
        ).subarray(0, n),
      )
    series.push({
      index,
      device: `dev-${String(index).padStart(5, '0')}`,
      metric: kind,
      site: `site-${String(index % 10)}`,
      type: s.type,
      times,
      values,
    })
    points += n
  })
  return { series, points, start, end }
}

/** A value as the peer's float8 column holds it (statuses as their code). */
export function asFloat(value: number | bigint | boolean | string): number {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'boolean') return value ? 1 : 0
  return statusCodes[value] ?? -1
}
