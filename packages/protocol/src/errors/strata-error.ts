/** Options every Strata error accepts besides its code and message. */
export interface StrataErrorOptions {
  /** What the user should do about it, in one sentence. */
  readonly hint?: string
  /** True when the same operation may succeed if retried later. */
  readonly retryable?: boolean
  /** The error this one wraps. */
  readonly cause?: unknown
  /** Structured facts about the failure (field path, line, byte offset…), safe to log and return. */
  readonly details?: Readonly<Record<string, unknown>>
}

/**
 * The base of every error Strata throws on purpose. Edges translate it: HTTP to
 * problem+json with `code`, MQTT to a reason code, the CLI prints `hint` and exits non-zero.
 *
 * @example
 * throw new ProtocolError('PROTOCOL_INVALID', 'telemetry /values/temp must be a number', {
 *   hint: 'Send numbers, booleans or strings as values.',
 * })
 */
export class StrataError extends Error {
  readonly code: string
  readonly hint: string | undefined
  readonly retryable: boolean
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: string, message: string, options: StrataErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.hint = options.hint
    this.retryable = options.retryable ?? false
    this.details = options.details ?? {}
  }

  /** A plain object safe to serialise in logs, API replies and `--json` output. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(Object.keys(this.details).length === 0 ? {} : { details: this.details }),
    }
  }
}

/** True when `err` is a StrataError, whichever package threw it. */
export function isStrataError(err: unknown): err is StrataError {
  return err instanceof StrataError
}
