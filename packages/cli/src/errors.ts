import { StrataError, type StrataErrorOptions } from '@strata/protocol'

/** Every error code the CLI throws itself, with what it means (see docs/errors.md). */
export const cliErrorCodes = {
  CLI_USAGE: 'A command line that cannot be run: unknown option, missing argument, bad value.',
  CLI_FILE_UNREADABLE: 'A file named on the command line that cannot be read.',
  CLI_SIMULATOR_UNREACHABLE:
    'No running `strata simulate` answered: no control file in the data folder, or nothing listens at its control URL.',
  CLI_SIMULATOR_REFUSED:
    'A running simulator refused a control request: wrong control token, unknown device, or a fault it cannot apply.',
} as const

export type CliErrorCode = keyof typeof cliErrorCodes

/** An error in how the command was called, rather than in what it worked on. */
export class CliError extends StrataError {
  declare readonly code: CliErrorCode

  constructor(code: CliErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}
