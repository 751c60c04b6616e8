import { decodeChunk, encodeChunk, type ChunkData } from '../chunk/index.js'
import type { Value, ValueType } from '../model/points.js'
import type { SortedPoints } from './head.js'

/** Encodes sorted points of one type as a compressed chunk. */
export function encodePoints(type: ValueType, points: SortedPoints): Uint8Array {
  const timestamps = Float64Array.from(points.times)
  const n = points.times.length
  let data: ChunkData
  switch (type) {
    case 'float':
      data = { type, timestamps, values: Float64Array.from(points.values as number[]) }
      break
    case 'int': {
      const values = new BigInt64Array(n)
      for (let i = 0; i < n; i++) values[i] = points.values[i] as bigint
      data = { type, timestamps, values }
      break
    }
    case 'bool': {
      const values = new Uint8Array(n)
      for (let i = 0; i < n; i++) values[i] = points.values[i] === true ? 1 : 0
      data = { type, timestamps, values }
      break
    }
    case 'string':
      data = { type, timestamps, values: points.values as string[] }
      break
  }
  return encodeChunk(data)
}

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
