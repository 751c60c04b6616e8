import type { ChunkValues } from '../chunk/index.js'
import type { ValueType } from '../model/points.js'
import type { NewChunk } from './catalogue.js'
import { cutColumns, type ChunkLayout } from './chunk-writer.js'

/** Sorted, de-duplicated points of one series to cut into chunks and encode. */
export interface EncodeJob {
  readonly seriesId: number
  readonly type: ValueType
  readonly times: Float64Array
  readonly values: ChunkValues
}

/**
 * Encoded chunks as two transferable arrays: per chunk seven numbers in `meta` (job index,
 * series id, min time, max time, count, data bytes, rollup bytes) and every chunk's data then
 * rollups back to back in `bytes`. One buffer crosses a worker boundary without a copy, where
 * a list of small arrays would be cloned one by one.
 */
export interface PackedChunks {
  readonly meta: Float64Array
  readonly bytes: Uint8Array
}

const META = 7

/** Encodes jobs (as `cutColumns` would, chunk for chunk) and packs the chunks. */
export function encodeBatch(jobs: readonly EncodeJob[], layout: ChunkLayout): PackedChunks {
  const chunks: { job: number; chunk: NewChunk }[] = []
  let size = 0
  jobs.forEach((job, index) => {
    const points = { times: job.times, values: job.values }
    for (const chunk of cutColumns(job.seriesId, job.type, points, layout)) {
      chunks.push({ job: index, chunk })
      size += chunk.data.length + chunk.rollups.length
    }
  })
  const meta = new Float64Array(chunks.length * META)
  const bytes = new Uint8Array(size)
  let at = 0
  chunks.forEach(({ job, chunk }, i) => {
    meta.set(
      [
        job,
        chunk.seriesId,
        chunk.minTime,
        chunk.maxTime,
        chunk.count,
        chunk.data.length,
        chunk.rollups.length,
      ],
      i * META,
    )
    bytes.set(chunk.data, at)
    bytes.set(chunk.rollups, at + chunk.data.length)
    at += chunk.data.length + chunk.rollups.length
  })
  return { meta, bytes }
}

/** The chunks of packed jobs, as views of its bytes, by job in job order. */
export function unpackChunks(packed: PackedChunks, jobs: number): NewChunk[][] {
  const out: NewChunk[][] = Array.from({ length: jobs }, () => [])
  const { meta, bytes } = packed
  let at = 0
  for (let i = 0; i < meta.length; i += META) {
    const dataLength = meta[i + 5] as number
    const rollupsLength = meta[i + 6] as number
    out[meta[i] as number]?.push({
      seriesId: meta[i + 1] as number,
      minTime: meta[i + 2] as number,
      maxTime: meta[i + 3] as number,
      count: meta[i + 4] as number,
      data: bytes.subarray(at, at + dataLength),
      rollups: bytes.subarray(at + dataLength, at + dataLength + rollupsLength),
    })
    at += dataLength + rollupsLength
  }
  return out
}

/**
 * A job whose arrays own their memory (a head's columns are views of a larger buffer, which
 * would be cloned whole), and the buffers to transfer with it.
 */
export function detachJob(job: EncodeJob): { job: EncodeJob; transfer: ArrayBuffer[] } {
  const times = job.times.slice()
  const values = Array.isArray(job.values) ? job.values : job.values.slice()
  const transfer = [times.buffer]
  if (!Array.isArray(values)) transfer.push(values.buffer)
  return { job: { ...job, times, values }, transfer }
}
