import Table from 'cli-table3'
import { InvalidArgumentError, type Command } from 'commander'
import { toJson, type Output } from '../output.js'
import type { SubcommandFactory } from './data-command.js'
import { intOption } from './int-option.js'
import { isTty } from './data-progress.js'

/** What the verb groups that talk to a node need from program.ts. */
export interface NodeVerbContext {
  readonly out: Output
  readonly subcommand: SubcommandFactory
  readonly stdin: NodeJS.ReadableStream | undefined
  readonly setExit: (code: number) => void
}

/** A command that only groups verbs (`strata devices`, `strata admin users`). */
export function group(parent: Command, name: string, description: string, out: Output): Command {
  return parent
    .command(name)
    .description(description)
    .configureOutput({ writeOut: (s) => out.stdout.write(s), writeErr: (s) => out.stderr.write(s) })
    .exitOverride()
}

/** A verb that talks to a node: `--json` plus `--url` and (unless it has its own) `--token`. */
export function remoteVerb(
  ctx: NodeVerbContext,
  parent: Command,
  name: string,
  options: { tokenFlag?: boolean; isDefault?: boolean } = {},
): Command {
  const command = (
    options.isDefault === true
      ? defaultVerb(parent, name, ctx.out)
      : ctx.subcommand(parent, name, ctx.out)
  ).option('--url <url>', 'the node (default: STRATA_URL, else the saved session)')
  if (options.tokenFlag !== false)
    command.option(
      '--token <token>',
      'an API token (default: STRATA_TOKEN, else the saved session)',
    )
  return command
}

/** Like `subcommand`, but run when the group is called without a verb. */
function defaultVerb(parent: Command, name: string, out: Output): Command {
  return parent
    .command(name, { isDefault: true })
    .configureOutput({ writeOut: (s) => out.stdout.write(s), writeErr: (s) => out.stderr.write(s) })
    .exitOverride()
    .option('--json', 'print one JSON object instead of prose')
}

/** Writes `value` as one JSON object with `--json`, else the prose `human()` makes. */
export function emit(out: Output, json: boolean | undefined, value: unknown, human: () => string) {
  out.stdout.write(json === true ? `${toJson(value)}\n` : ensureNewline(human()))
}

/** A table; colours only on a terminal (cli-table3 colours head and border by default). */
export function table(out: Output, head: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `${empty}\n`
  const t = new Table({
    head,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: isTty(out.stdout) ? {} : { head: [], border: [] },
  })
  t.push(...rows)
  return `${t.toString()}\n`
}

/** Name/value lines, the names padded to one width. */
export function fields(rows: readonly (readonly [string, string])[], indent = '  '): string {
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`).join('\n')
}

/** An epoch-ms time as ISO 8601, `-` for none. */
export function when(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString()
}

export function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join(',')
}

/** Commander collector for a repeatable `--label k=v`. */
export function collectLabel(
  value: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const eq = value.indexOf('=')
  if (eq <= 0) throw new InvalidArgumentError('expected name=value')
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) }
}

export const parseLimit = intOption(1, 1000, 'expected a whole number from 1 to 1000')
export const parseDays = intOption(1, 3650, 'expected a whole number of days from 1 to 3650')

/** Progress on stderr, on a terminal only and never with `--json`. */
export function progress(
  out: Output,
  json: boolean | undefined,
): { update(line: string): void; done(): void } {
  if (json === true || !isTty(out.stderr)) return { update: () => {}, done: () => {} }
  let shown = false
  return {
    update(line) {
      shown = true
      out.stderr.write(`\r${line}\u001b[K`)
    },
    done() {
      if (shown) out.stderr.write('\r\u001b[K')
    },
  }
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`
}
