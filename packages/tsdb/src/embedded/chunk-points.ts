import { decodeChunk } from '../chunk/index.js'
import type { Value, ValueType } from '../model/points.js'
import type { SortedPoints } from './head.js'

/** Decodes a chunk back into points (throws `TSDB_CHUNK_CORRUPT` on damage). */
export function decodePoints(bytes: Uint8Array): SortedPoints & { type: ValueType } {
  const chunk = decodeChunk(bytes)
  const times = Array.from(chunk.timestamps)
  let values: Value[]
  switch (chunk.type) {
    case 'bool':
      values = Array.from(chunk.values as Uint8Array, (v) => v === 1)
      break
    case 'string':
      values = chunk.values as string[]
      break
    default:
      values = Array.from(chunk.values as ArrayLike<number | bigint>)
  }
  return { type: chunk.type, times, values }
}
