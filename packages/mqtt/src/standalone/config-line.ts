import { dirname, resolve } from 'node:path'
import { ConfigError } from './config-error.js'

/** Why a config line was refused, kept in the error's `details` for the CLI and tests. */
export type ConfigProblem = 'invalid' | 'unknown' | 'unsupported' | 'duplicate'

/** One non-comment line of a config file, split into its option name and value. */
export interface ConfigLine {
  readonly file: string
  /** 1-based. */
  readonly line: number
  readonly option: string
  /** Everything after the option name, trimmed; '' when there is none. */
  readonly value: string
}

/**
 * Splits a config file into option lines. mosquitto.conf(5): "All lines with a # as the very
 * first character are treated as a comment" and "the variable value is separated from the name
 * by a single space"; we also accept tabs, runs of blanks and indented comments, which Mosquitto
 * rejects as unknown options, so every file Mosquitto reads reads the same here.
 */
export function splitConfigLines(text: string, file: string): ConfigLine[] {
  const out: ConfigLine[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? '').trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const match = /^(\S+)(?:\s+(.*))?$/.exec(trimmed)
    out.push({ file, line: i + 1, option: match?.[1] ?? trimmed, value: match?.[2] ?? '' })
  }
  return out
}

/** `file:line`, the position every config error starts with. */
export function where(line: Pick<ConfigLine, 'file' | 'line'>): string {
  return `${line.file}:${String(line.line)}`
}

/** Throws `MQTT_CONFIG_INVALID` for a line, with the position, option and problem in `details`. */
export function fail(
  line: ConfigLine,
  message: string,
  hint?: string,
  problem: ConfigProblem = 'invalid',
): never {
  throw new ConfigError('MQTT_CONFIG_INVALID', `${where(line)}: ${message}`, {
    ...(hint === undefined ? {} : { hint }),
    details: { file: line.file, line: line.line, option: line.option, problem },
  })
}

/** The value as one word: options taking a number, boolean or keyword have no blanks in it. */
export function word(line: ConfigLine): string {
  if (line.value === '') fail(line, `${line.option} needs a value`)
  if (/\s/.test(line.value)) {
    fail(line, `${line.option} takes one value, got ${JSON.stringify(line.value)}`)
  }
  return line.value
}

/** `true` or `false`, exactly, as Mosquitto's conf__parse_bool. */
export function parseBool(line: ConfigLine): boolean {
  const value = word(line)
  if (value === 'true') return true
  if (value === 'false') return false
  return fail(line, `${line.option} must be true or false, not ${JSON.stringify(value)}`)
}

/** A decimal integer within [min, max]; Mosquitto's atoi would read "12abc" as 12, we refuse it. */
export function parseInteger(line: ConfigLine, min: number, max: number): number {
  const value = word(line)
  const n = /^-?\d{1,10}$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    fail(
      line,
      `${line.option} must be an integer from ${String(min)} to ${String(max)}, not ${JSON.stringify(value)}`,
    )
  }
  return n
}

/** One of a fixed set of keywords. */
export function parseKeyword<const K extends string>(line: ConfigLine, keywords: readonly K[]): K {
  const value = word(line)
  const found = keywords.find((k) => k === value)
  if (found === undefined) {
    fail(line, `${line.option} must be one of ${keywords.join(', ')}, not ${JSON.stringify(value)}`)
  }
  return found
}

/**
 * A path; may contain blanks, as Mosquitto takes the rest of the line. Relative paths resolve
 * against the directory of the file the line is in (Mosquitto uses its working directory, which
 * makes a config mean different things depending on where the broker starts).
 */
export function parsePath(line: ConfigLine): string {
  if (line.value === '') fail(line, `${line.option} needs a path`)
  return resolve(dirname(line.file), line.value)
}

/**
 * Records that a single-valued option was given and refuses a second one. Mosquitto refuses
 * duplicate string options and lets the last number or boolean win; we refuse all duplicates,
 * since two `allow_anonymous` lines in two included files are a mistake either way.
 */
export function once(seen: Map<string, string>, line: ConfigLine, scope = ''): void {
  const first = seen.get(line.option)
  if (first !== undefined) {
    fail(
      line,
      `${line.option} is given twice${scope} (first at ${first})`,
      'Keep one of them.',
      'duplicate',
    )
  }
  seen.set(line.option, where(line))
}
