import { StrataError, type StrataErrorOptions } from '@strata/protocol'

/** Error codes of the MQTT server itself (the store and standalone config have their own registries). */
export const mqttErrorCodes = {
  MQTT_LISTEN_FAILED: 'A listener could not open its port (in use, no permission, bad address).',
  MQTT_TLS_INVALID: 'A TLS listener whose key, certificate or CA cannot be loaded.',
} as const

export type MqttErrorCode = keyof typeof mqttErrorCodes

/** An error of the MQTT server's own making. */
export class MqttError extends StrataError {
  declare readonly code: MqttErrorCode

  constructor(code: MqttErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}
