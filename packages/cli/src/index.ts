/**
 * @strata/cli — the `strata` command. Its public surface is the command line itself
 * (docs in README.md); `runCli` lets tests and embedders run it in-process.
 */
export { runCli } from './program.js'
export { CliError, cliErrorCodes, type CliErrorCode } from './errors.js'
