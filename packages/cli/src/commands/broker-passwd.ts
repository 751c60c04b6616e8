import { createInterface } from 'node:readline'
import { deleteUser, setPassword } from '@strata/mqtt'
import { CliError } from '../errors.js'
import type { Output } from '../output.js'

/**
 * `strata broker passwd FILE USER`: adds or changes a user of a password file (argon2id), the
 * way `mosquitto_passwd` does; `--delete` removes one. The password is read from standard input
 * (one line), or asked for twice, unechoed, on a terminal — never from the command line, where
 * other users could see it in the process list.
 */
export async function runPasswd(
  file: string,
  user: string,
  options: { delete?: boolean; json?: boolean },
  out: Output,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean },
): Promise<void> {
  if (options.delete === true) {
    const removed = await deleteUser(file, user)
    if (!removed)
      throw new CliError('CLI_USAGE', `${user} is not in ${file}`, {
        hint: 'Check the user name; nothing was changed.',
      })
    out.stdout.write(
      options.json === true
        ? `${JSON.stringify({ file, user, deleted: true })}\n`
        : `deleted ${user} from ${file}\n`,
    )
    return
  }
  const password = stdin.isTTY === true ? await askTwice(stdin, out) : await firstLine(stdin)
  await setPassword(file, user, password)
  out.stdout.write(
    options.json === true
      ? `${JSON.stringify({ file, user, updated: true })}\n`
      : `set the password of ${user} in ${file}\n`,
  )
}

async function firstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    lines.close()
    return line
  }
  throw new CliError('CLI_USAGE', 'no password on standard input', {
    hint: 'Pipe the password in: printf %s "$PASSWORD" | strata broker passwd FILE USER',
  })
}

async function askTwice(stdin: NodeJS.ReadableStream, out: Output): Promise<string> {
  const first = await askHidden(stdin, out, 'Password: ')
  const second = await askHidden(stdin, out, 'Reenter password: ')
  if (first !== second)
    throw new CliError('CLI_USAGE', 'the passwords do not match', {
      hint: 'Run the command again.',
    })
  return first
}

function askHidden(stdin: NodeJS.ReadableStream, out: Output, prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: stdin, output: out.stderr, terminal: true })
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
