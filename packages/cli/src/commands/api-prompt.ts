import { createInterface } from 'node:readline'
import { CliError } from '../errors.js'
import type { Output } from '../output.js'
import { NodeClientError } from './api-client.js'

type Input = NodeJS.ReadableStream & { isTTY?: boolean }

/**
 * A password, never from the command line (other users could read it in the process list): the
 * first line of standard input with `--password-stdin`, else asked unechoed on a terminal (twice
 * when `twice`, for a new password).
 */
export async function readPassword(
  stdin: Input,
  out: Output,
  options: { fromStdin: boolean; twice: boolean },
): Promise<string> {
  if (options.fromStdin) {
    const line = await firstLine(stdin)
    if (line === undefined || line === '')
      throw new CliError('CLI_USAGE', 'no password on standard input', {
        hint: 'Pipe it in: printf %s "$PASSWORD" | strata … --password-stdin',
      })
    return line
  }
  if (stdin.isTTY !== true)
    throw new CliError('CLI_USAGE', 'no terminal to ask for the password on', {
      hint: 'Pass --password-stdin and pipe the password in.',
    })
  const first = await askHidden(stdin, out, 'Password: ')
  if (first === '')
    throw new CliError('CLI_USAGE', 'the password is empty', { hint: 'Run the command again.' })
  if (options.twice && (await askHidden(stdin, out, 'Repeat password: ')) !== first)
    throw new CliError('CLI_USAGE', 'the passwords do not match', {
      hint: 'Run the command again.',
    })
  return first
}

/**
 * Asks "QUESTION [y/N]" on a terminal; without one, refuses unless `--yes` was given. Throws
 * CLI_ABORTED when the answer is not yes.
 */
export async function confirm(stdin: Input, out: Output, question: string): Promise<void> {
  if (stdin.isTTY !== true)
    throw new CliError('CLI_USAGE', `${question} needs confirmation, and there is no terminal`, {
      hint: 'Add --yes to go ahead without asking.',
    })
  const answer = await new Promise<string>((resolve) => {
    const rl = createInterface({ input: stdin, output: out.stderr, terminal: true })
    rl.question(`${question} [y/N] `, (a) => {
      rl.close()
      resolve(a)
    })
  })
  if (!/^y(es)?$/i.test(answer.trim()))
    throw new NodeClientError('CLI_ABORTED', `${question}: not confirmed; nothing was changed`)
}

async function firstLine(stdin: NodeJS.ReadableStream): Promise<string | undefined> {
  const lines = createInterface({ input: stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    lines.close()
    return line
  }
  return undefined
}

function askHidden(stdin: NodeJS.ReadableStream, out: Output, prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: stdin, output: out.stderr, terminal: true })
    // Echo the prompt only, never the keys typed (readline has no no-echo option).
    const write = rl as unknown as { _writeToOutput: (s: string) => void }
    write._writeToOutput = (s: string) => {
      if (s.startsWith(prompt)) out.stderr.write(prompt)
    }
    rl.question(prompt, (answer) => {
      out.stderr.write('\n')
      rl.close()
      resolve(answer)
    })
  })
}
