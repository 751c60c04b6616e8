/**
 * The console's own error codes: what goes wrong in the browser before or around an API call.
 * Errors from the API keep the API's code (docs/errors.md lists both).
 */
export const consoleErrorCodes = {
  CONSOLE_API_UNREACHABLE: 'the node did not answer (down, restarting, or the network is out)',
  CONSOLE_BAD_RESPONSE: 'the node answered something that is not the JSON the console expects',
  CONSOLE_SESSION_EXPIRED: 'the session ended (expired, logged out elsewhere, or revoked)',
} as const
export type ConsoleErrorCode = keyof typeof consoleErrorCodes

/** An error of an API call: the problem+json the node sent, or one of the console's own codes. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly status: number
  readonly code: string
  readonly hint: string | undefined
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { hint?: string | undefined; details?: Record<string, unknown> | undefined } = {},
  ) {
    super(message)
    this.status = status
    this.code = code
    this.hint = extra.hint
    this.details = extra.details
  }
}

/** The console's own failure (no HTTP status from the node: 0). */
export function consoleError(code: ConsoleErrorCode, message: string, hint?: string): ApiError {
  return new ApiError(0, code, message, { hint })
}
