import { TsdbError } from '../errors.js'
import {
  timeRange,
  unitsPerMs,
  valueTypeOf,
  type Precision,
  type SeriesBatch,
  type Value,
  type ValueType,
} from './points.js'
import { canonicalSeriesKey, normalizeSeriesKey, type SeriesKey } from './series.js'

/** A checked batch: normalised key, one value type, valid timestamps. */
export interface PreparedBatch {
  readonly key: Required<SeriesKey>
  readonly canonical: string
  readonly type: ValueType
  readonly times: readonly number[]
  readonly values: readonly Value[]
}

export interface WritePolicy {
  readonly precision: Precision
  readonly lateWindowMs: number
  readonly maxFutureMs: number
  readonly nowMs: number
  readonly backfill: boolean
}

/** Points older than now − this are refused unless written as backfill (`StoreOptions`). */
export const defaultLateWindowMs = 7 * 86_400_000
/** Points further ahead than this are refused: device clock skew (`StoreOptions`). */
export const defaultMaxFutureMs = 3_600_000

/** Points in one write call, over all batches. */
export const maxPointsPerWrite = 5_000_000

/**
 * Checks every batch of a write before anything is stored, so a write is all-or-nothing. Two
 * batches of the same series are merged. Throws a `TsdbError` naming the series and the point.
 * `copy` false hands the caller's arrays on uncopied where a series comes once: for a caller
 * that is done with them before it returns to the event loop (the embedded engine logs them).
 */
export function prepareWrite(
  batches: readonly SeriesBatch[],
  policy: WritePolicy,
  copy = true,
): PreparedBatch[] {
  const perMs = unitsPerMs(policy.precision)
  const { max } = timeRange(policy.precision)
  const latest = Math.min(max - 1, (policy.nowMs + policy.maxFutureMs) * perMs)
  const earliest = policy.backfill ? 0 : Math.max(0, (policy.nowMs - policy.lateWindowMs) * perMs)
  const merged = new Map<
    string,
    { key: Required<SeriesKey>; type: ValueType; times: number[]; values: Value[]; own: boolean }
  >()
  let total = 0
  for (const batch of batches) {
    const key = normalizeSeriesKey(batch.series)
    const canonical = canonicalSeriesKey(key)
    const { times, values } = batch
    if (!Array.isArray(times) || !Array.isArray(values) || times.length !== values.length) {
      throw new TsdbError(
        'TSDB_POINT_INVALID',
        `${describe(key)}: times and values must be arrays of the same length`,
      )
    }
    total += times.length
    if (total > maxPointsPerWrite) {
      throw new TsdbError(
        'TSDB_POINT_INVALID',
        `a write holds at most ${maxPointsPerWrite.toLocaleString('en')} points`,
        { hint: 'Split the write into smaller batches.' },
      )
    }
    let entry = merged.get(canonical)
    const type = checkPoints(times, values, entry?.type, key, earliest, latest, policy)
    if (type === undefined) continue
    if (entry === undefined) {
      // The usual case, a series once per write: copied whole (a point at a time costs the
      // garbage collector dearly at millions of points per second), or not at all when the
      // caller consumes the points before it returns.
      entry = copy
        ? {
            key,
            type,
            times: times.slice() as number[],
            values: values.slice() as Value[],
            own: true,
          }
        : { key, type, times: times as number[], values: values as Value[], own: false }
      merged.set(canonical, entry)
    } else {
      if (!entry.own) {
        entry.times = entry.times.slice()
        entry.values = entry.values.slice()
        entry.own = true
      }
      // `at`, not an index: see checkPoints.
      for (let i = 0; i < times.length; i++) {
        entry.times.push(times.at(i) as number)
        entry.values.push(values.at(i) as Value)
      }
    }
  }
  return [...merged].map(([canonical, e]) => ({
    key: e.key,
    canonical,
    type: e.type,
    times: e.times,
    values: e.values,
  }))
}

/**
 * Checks one batch's points (one value type, agreeing with `known`; timestamps in range) and
 * returns their type, undefined for no points. This runs for every point: numbers and booleans
 * are checked in loops of their own, and other values read with `at`, because a loop that reads
 * both arrays of numbers and arrays of objects makes V8 convert the number arrays into arrays
 * of boxed numbers (the caller's arrays: slower for everyone after, and garbage by the million).
 */
function checkPoints(
  times: readonly number[],
  values: readonly Value[],
  known: ValueType | undefined,
  key: Required<SeriesKey>,
  earliest: number,
  latest: number,
  policy: WritePolicy,
): ValueType | undefined {
  const n = times.length
  if (n === 0) return known
  const type = known ?? valueTypeOf(values.at(0))
  let i = 0
  if (type === 'float') i = plainNumbers(times, values as readonly number[], earliest, latest)
  else if (type === 'bool') i = plainBooleans(times, values as readonly boolean[], earliest, latest)
  for (; i < n; i++) {
    const valueType = valueTypeOf(values.at(i))
    if (type !== valueType) {
      throw new TsdbError(
        'TSDB_TYPE_MISMATCH',
        `${describe(key)}: a ${valueType} value among ${type} values`,
        { details: { index: i } },
      )
    }
    checkTime(times.at(i) as number, key, earliest, latest, policy)
  }
  return type
}

/** How many points from the first are numbers at valid times (they need no other check). */
function plainNumbers(
  times: readonly number[],
  values: readonly number[],
  earliest: number,
  latest: number,
): number {
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number
    if (typeof values[i] !== 'number' || !(t >= earliest && t <= latest && Number.isSafeInteger(t)))
      return i
  }
  return times.length
}

/** The same for booleans. */
function plainBooleans(
  times: readonly number[],
  values: readonly boolean[],
  earliest: number,
  latest: number,
): number {
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number
    if (
      typeof values[i] !== 'boolean' ||
      !(t >= earliest && t <= latest && Number.isSafeInteger(t))
    )
      return i
  }
  return times.length
}

function checkTime(
  time: number,
  key: Required<SeriesKey>,
  earliest: number,
  latest: number,
  policy: WritePolicy,
): void {
  if (!Number.isSafeInteger(time)) {
    throw new TsdbError(
      'TSDB_POINT_INVALID',
      `${describe(key)}: timestamp ${String(time)} is not an integer number of ${policy.precision}`,
    )
  }
  if (time < 0 || time > latest) {
    throw new TsdbError(
      'TSDB_TIME_OUT_OF_RANGE',
      `${describe(key)}: timestamp ${String(time)} ${time < 0 ? 'is before 1970' : 'is too far in the future'}`,
      {
        hint:
          time < 0
            ? 'Timestamps count from the Unix epoch.'
            : `Check the device clock and the unit (${policy.precision}); at most ${String(policy.maxFutureMs)} ms ahead is accepted.`,
      },
    )
  }
  if (time < earliest) {
    throw new TsdbError(
      'TSDB_TOO_LATE',
      `${describe(key)}: timestamp ${String(time)} is older than the late-write window of ${String(policy.lateWindowMs)} ms`,
      { hint: 'Import history with backfill (strata data import does).' },
    )
  }
}

/** A series key for messages: tenant/device/metric{tags}. */
export function describe(key: Required<SeriesKey>): string {
  const tags = Object.entries(key.tags)
  const suffix = tags.length === 0 ? '' : `{${tags.map(([k, v]) => `${k}=${v}`).join(',')}}`
  return `${key.tenant}/${key.device}/${key.metric}${suffix}`
}
