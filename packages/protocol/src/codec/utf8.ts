import { ProtocolError } from '../errors/protocol-error.js'

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Decodes UTF-8 strictly. Invalid bytes are a `PROTOCOL_MALFORMED` error that gives the byte
 * offset of the first bad sequence, so a device developer can find it in a hex dump.
 *
 * @example
 * decodeUtf8(new Uint8Array([0x68, 0xff]), 'telemetry') // throws: telemetry is not valid UTF-8 at byte 1
 */
export function decodeUtf8(bytes: Uint8Array, what: string, baseOffset = 0): string {
  try {
    return fatalDecoder.decode(bytes)
  } catch (cause) {
    const offset = baseOffset + findInvalidUtf8(bytes)
    throw new ProtocolError(
      'PROTOCOL_MALFORMED',
      `${what} is not valid UTF-8 at byte ${String(offset)}`,
      {
        hint: 'Encode text as UTF-8.',
        details: { offset },
        cause,
      },
    )
  }
}

/**
 * The offset of the first byte that starts an invalid UTF-8 sequence (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or `bytes.length` when all is valid.
 */
export function findInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i)
    if (length === 0) return i
    i += length
  }
  return bytes.length
}

function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i] ?? 0
  if (c < 0x80) return 1
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const x = b[i + k]
    return x !== undefined && x >= lo && x <= hi
  }
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0
  return 0
}
