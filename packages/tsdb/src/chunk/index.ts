/**
 * The chunk format of the embedded time-series engine: one series' points, compressed,
 * checksummed and immutable. See chunk.ts for the byte layout.
 */
export {
  decodeChunk,
  encodeChunk,
  MAX_CHUNK_POINTS,
  readChunkHeader,
  type ChunkData,
  type ChunkHeader,
  type ChunkValues,
  type ValueType,
} from './chunk.js'
export { ChunkError, chunkErrorCodes, type ChunkErrorCode } from './chunk-error.js'
export { MAX_STRING_BYTES } from './string-codec.js'
export { decodeFloatTable, encodeFloatTable, MAX_TABLE_COLUMNS, type FloatTable } from './table.js'
