import { StrataError, type StrataErrorOptions } from '@strata/protocol'

/**
 * Every error code the standalone broker's configuration, password file and ACL file code
 * throws, with what it means. `docs/errors.md` lists the same codes.
 *
 * @example
 * configErrorCodes.MQTT_CONFIG_INVALID // 'A broker config file line that is malformed, …'
 */
export const configErrorCodes = {
  MQTT_CONFIG_INVALID:
    'A broker config file line that is malformed, unknown, or a Mosquitto option Strata does not support; the message gives file and line.',
  MQTT_PASSWORD_FILE_INVALID:
    'A password file line that is malformed, plaintext, or uses an unknown hash; the message gives file and line.',
  MQTT_ACL_FILE_INVALID: 'An ACL file line that cannot be parsed; the message gives file and line.',
  MQTT_FILE_UNREADABLE: 'A config, include, password or ACL file that cannot be read or written.',
  MQTT_CREDENTIAL_INVALID:
    'A user name or password that cannot be stored in a password file (empty, or a user name with ":").',
} as const

/**
 * One of the standalone broker's configuration error codes.
 *
 * @example
 * const code: ConfigErrorCode = 'MQTT_ACL_FILE_INVALID'
 */
export type ConfigErrorCode = keyof typeof configErrorCodes

/**
 * An error in the files `strata broker --config FILE` reads: mosquitto.conf, the password file and
 * the ACL file. The CLI prints `hint` and exits non-zero.
 *
 * @example
 * throw new ConfigError('MQTT_CONFIG_INVALID', 'broker.conf:3: unknown option "lisener"', {
 *   hint: 'Did you mean "listener"?',
 * })
 */
export class ConfigError extends StrataError {
  declare readonly code: ConfigErrorCode

  constructor(code: ConfigErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}
