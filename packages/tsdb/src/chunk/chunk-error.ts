// The light entry point: the error class only, not the whole protocol package (codecs, schemas),
// which the chunk encoder's worker threads would otherwise load at every start.
import { StrataError, type StrataErrorOptions } from '@strata/protocol/errors'

/**
 * Every error code the chunk codec throws, with what it means. The package's `src/errors.ts`
 * folds these into its registry; `docs/errors.md` lists the same codes.
 *
 * @example
 * if (err instanceof ChunkError) log.error({ code: err.code, meaning: chunkErrorCodes[err.code] })
 */
export const chunkErrorCodes = {
  TSDB_CHUNK_CORRUPT:
    'The bytes are not a readable chunk (bad magic, unknown version, checksum mismatch, truncated, or an inconsistent field); the message says which and at what offset.',
  TSDB_CHUNK_INVALID:
    'encodeChunk got data it cannot store: timestamps not strictly increasing safe integers, lengths that differ, too many points, a bool not 0/1 or a string over the size limit.',
} as const

/** One of the chunk codec's error codes. */
export type ChunkErrorCode = keyof typeof chunkErrorCodes

/**
 * An error from encoding or decoding a chunk.
 *
 * @example
 * throw new ChunkError('TSDB_CHUNK_CORRUPT', 'chunk checksum mismatch', { details: { offset: 0 } })
 */
export class ChunkError extends StrataError {
  declare readonly code: ChunkErrorCode

  constructor(code: ChunkErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}

/** The error for bytes that are not a valid chunk; `what` says which check failed. */
export function corruptChunk(what: string, details: Record<string, unknown> = {}): ChunkError {
  return new ChunkError('TSDB_CHUNK_CORRUPT', `chunk is corrupt: ${what}`, {
    hint: 'The chunk cannot be read; restore it from a replica or drop it (its points are lost).',
    details,
  })
}

/** The error for data encodeChunk refuses; `what` says why. */
export function invalidChunkData(what: string): ChunkError {
  return new ChunkError('TSDB_CHUNK_INVALID', `cannot encode chunk: ${what}`, {
    hint: 'Sort and de-duplicate points by timestamp and check the values match the type.',
  })
}
