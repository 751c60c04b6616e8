import { runCli } from './program.js'

/**
 * The entry point of the `strata` command: `argv` as Node gives it. Resolves to the exit code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  return runCli(argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
}
