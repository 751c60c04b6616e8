import type { Value } from '../model/points.js'
import type { SortedPoints } from './head.js'

/** Sorts points by time; of equal timestamps the one written last (highest index) wins. */
export function sortLastWins(times: readonly number[], values: readonly Value[]): SortedPoints {
  const order = Array.from(times.keys())
  order.sort((a, b) => (times[a] as number) - (times[b] as number) || a - b)
  const outTimes: number[] = []
  const outValues: Value[] = []
  for (let k = 0; k < order.length; k++) {
    const i = order[k] as number
    const t = times[i] as number
    const next = order[k + 1]
    if (next !== undefined && times[next] === t) continue
    outTimes.push(t)
    outValues.push(values[i] as Value)
  }
  return { times: outTimes, values: outValues }
}

/**
 * Merges two sorted, de-duplicated point lists; where both hold a timestamp, `newer` wins.
 */
export function mergePoints(older: SortedPoints, newer: SortedPoints): SortedPoints {
  if (newer.times.length === 0) return older
  if (older.times.length === 0) return newer
  const times: number[] = []
  const values: Value[] = []
  let i = 0
  let j = 0
  const a = older.times
  const b = newer.times
  while (i < a.length || j < b.length) {
    const ta = i < a.length ? (a[i] as number) : Infinity
    const tb = j < b.length ? (b[j] as number) : Infinity
    if (tb <= ta) {
      times.push(tb)
      values.push(newer.values[j++] as Value)
      if (ta === tb) i++
    } else {
      times.push(ta)
      values.push(older.values[i++] as Value)
    }
  }
  return { times, values }
}
