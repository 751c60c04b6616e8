import { StrataError, type StrataErrorOptions } from './strata-error.js'

/**
 * Every error code the protocol package throws, with what it means. `docs/errors.md` lists the
 * same codes; `npm run check:docs` fails when the two disagree.
 */
export const protocolErrorCodes = {
  PROTOCOL_INVALID: 'A decoded value does not match its schema; the message names the field.',
  PROTOCOL_MALFORMED: 'The bytes are not well-formed in their encoding (JSON, CBOR, UTF-8).',
  PROTOCOL_LINE_SYNTAX:
    'InfluxDB line protocol that breaks the grammar; the message gives line and column.',
  PROTOCOL_TOO_LARGE: 'A payload, string, batch or nesting depth over its limit.',
  PROTOCOL_UNSUPPORTED: 'A format, version or value the protocol does not support.',
  PROTOCOL_TOPIC_INVALID: 'A topic name or filter that breaks the MQTT rules or the Strata limits.',
  PROTOCOL_MANIFEST_INVALID: 'A firmware manifest envelope or manifest that cannot be decoded.',
  PROTOCOL_SIGNATURE_INVALID:
    'A firmware manifest whose signature does not verify with any trusted key.',
  PROTOCOL_ROLLBACK: 'A firmware manifest with a lower security version than the device runs.',
  PROTOCOL_INCOMPATIBLE: 'A firmware manifest that does not list the device hardware.',
  PROTOCOL_KEY_INVALID: 'A signing or verification key that is not a usable Ed25519 key.',
} as const

/** One of the protocol package's error codes. */
export type ProtocolErrorCode = keyof typeof protocolErrorCodes

/** An error from decoding, encoding, authorising or verifying protocol data. */
export class ProtocolError extends StrataError {
  declare readonly code: ProtocolErrorCode

  constructor(code: ProtocolErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}
