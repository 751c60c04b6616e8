import { isStrataError } from '@strata/protocol'

/** Where a command writes, and how: a terminal gets prose, `--json` or a pipe gets data. */
export interface Output {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
}

/** Exit codes: 0 success, 1 the input was wrong (invalid payload…), 2 the command line was wrong. */
export const exitCodes = { ok: 0, invalid: 1, usage: 2, internal: 70 } as const

/** JSON.stringify that writes bigints (int64 telemetry values) as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)
}

/**
 * Reports an error: the code and message, then the hint, on stderr; or one JSON object on
 * stdout with `--json`. Returns the exit code to use.
 */
export function reportError(out: Output, err: unknown, json: boolean): number {
  const usage = isStrataError(err) && err.code === 'CLI_USAGE'
  if (json) {
    const body = isStrataError(err) ? err.toJSON() : { code: 'INTERNAL', message: String(err) }
    out.stdout.write(`${toJson({ ok: false, error: body })}\n`)
  } else if (isStrataError(err)) {
    out.stderr.write(`error ${err.code}: ${err.message}\n`)
    if (err.hint !== undefined) out.stderr.write(`hint: ${err.hint}\n`)
  } else {
    out.stderr.write(
      `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    out.stderr.write('hint: this is a bug in strata; please report it with the command you ran.\n')
  }
  if (usage) return exitCodes.usage
  return isStrataError(err) ? exitCodes.invalid : exitCodes.internal
}
