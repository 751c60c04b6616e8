import { crc32 } from 'node:zlib'
import { corruptChunk } from './chunk-error.js'

/** The envelope chunks and float tables share: magic (u32 LE) at 0, version at 4, CRC-32 last. */
export interface FrameFormat {
  /** What the bytes are, for messages: `chunk` or `table`. */
  readonly name: string
  readonly magic: number
  readonly version: number
  /** The shortest well-formed frame: header, anything fixed after it, and the checksum. */
  readonly minBytes: number
}

/** Bytes of the CRC-32 (ISO-HDLC, as node:zlib crc32) that ends every frame. */
export const CRC_BYTES = 4

/** Starts a frame in `out` (magic and version) and returns a view of it for the header. */
export function startFrame(out: Uint8Array, format: FrameFormat): DataView {
  const view = new DataView(out.buffer, out.byteOffset, out.length)
  view.setUint32(0, format.magic, true)
  out[4] = format.version
  return view
}

/** Writes the checksum of every byte before it into the last four bytes of `out`. */
export function sealFrame(out: Uint8Array, view: DataView): void {
  const end = out.length - CRC_BYTES
  view.setUint32(end, crc32(out.subarray(0, end)), true)
}

/**
 * Checks the envelope of `bytes` (length, magic, version, checksum) and returns a view of them;
 * anything wrong is `TSDB_CHUNK_CORRUPT` saying what and where.
 */
export function openFrame(bytes: Uint8Array, format: FrameFormat): DataView {
  if (!(bytes instanceof Uint8Array)) throw corruptChunk('not a Uint8Array')
  const length = bytes.length
  if (length < format.minBytes) {
    throw corruptChunk(
      `${format.name} of ${String(length)} bytes, shorter than a header and checksum`,
      { length },
    )
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, length)
  if (view.getUint32(0, true) !== format.magic) {
    throw corruptChunk(`bad magic at offset 0 (not a ${format.name})`)
  }
  const version = bytes[4] ?? 0
  if (version !== format.version) {
    throw corruptChunk(
      `${format.name} format version ${String(version)} at offset 4, expected ${String(format.version)}`,
    )
  }
  const stored = view.getUint32(length - CRC_BYTES, true)
  const actual = crc32(bytes.subarray(0, length - CRC_BYTES))
  if (stored !== actual) {
    throw corruptChunk(`checksum mismatch (stored ${String(stored)}, computed ${String(actual)})`, {
      length,
    })
  }
  return view
}
