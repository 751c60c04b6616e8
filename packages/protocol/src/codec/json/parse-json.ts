import { ProtocolError } from '../../errors/protocol-error.js'
import { decodeUtf8 } from '../utf8.js'

export interface JsonParseOptions {
  /** Largest input accepted, in bytes. */
  readonly maxBytes: number
  /** Deepest nesting of objects and arrays. */
  readonly maxDepth: number
}

export const defaultJsonParseOptions: JsonParseOptions = { maxBytes: 262_144, maxDepth: 32 }

/**
 * Parses a JSON payload with limits: size, then strict UTF-8, then nesting depth (scanned before
 * `JSON.parse`, so hostile nesting costs one linear pass and never the stack), then syntax.
 *
 * @example
 * parseJson(new TextEncoder().encode('{"temp":21.5}')) // { temp: 21.5 }
 */
export function parseJson(
  input: Uint8Array | string,
  options: Partial<JsonParseOptions> = {},
): unknown {
  const opts = { ...defaultJsonParseOptions, ...options }
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length
  if (size > opts.maxBytes) {
    throw new ProtocolError(
      'PROTOCOL_TOO_LARGE',
      `JSON payload of ${String(size)} bytes exceeds ${String(opts.maxBytes)}`,
    )
  }
  const text = typeof input === 'string' ? input : decodeUtf8(input, 'JSON payload')
  checkDepth(text, opts.maxDepth)
  try {
    return JSON.parse(text) as unknown
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    throw new ProtocolError('PROTOCOL_MALFORMED', `JSON payload is not valid JSON: ${reason}`, {
      hint: 'Check the payload with a JSON validator; it must be one JSON value in UTF-8.',
      cause,
    })
  }
}

function checkDepth(text: string, maxDepth: number): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) {
        throw new ProtocolError(
          'PROTOCOL_TOO_LARGE',
          `JSON payload nests deeper than ${String(maxDepth)} at character ${String(i)}`,
          {
            details: { offset: i },
          },
        )
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
}
