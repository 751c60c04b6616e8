import { InvalidArgumentError } from 'commander'

/**
 * A commander option parser for a whole number in [min, max], with the message shown when the
 * value is not one.
 *
 * @example
 * .option('-p, --port <n>', 'TCP port', intOption(0, 65_535, 'expected a port number 0-65535'))
 */
export function intOption(min: number, max: number, message: string): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(message)
    }
    return n
  }
}
