import { deleteUser, setPassword } from '@strata/mqtt'
import { CliError } from '../errors.js'
import type { Output } from '../output.js'
import { readPassword } from './api-prompt.js'

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
  const password = await readPassword(stdin, out, { fromStdin: stdin.isTTY !== true, twice: true })
  await setPassword(file, user, password)
  out.stdout.write(
    options.json === true
      ? `${JSON.stringify({ file, user, updated: true })}\n`
      : `set the password of ${user} in ${file}\n`,
  )
}
