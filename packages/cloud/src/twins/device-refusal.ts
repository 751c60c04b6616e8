import { deviceTopics } from '@strata/protocol'
import type { PublishVerdict, ServerMessage } from '@strata/mqtt'
import type { Logger } from 'pino'
import type { DeviceErrors } from '../registry/device-errors.js'

/** Refuses a device's message: the verdict for its PUBACK, after recording and telling why. */
export type RefuseDeviceMessage = (
  deviceId: string,
  topic: string,
  reasonCode: number,
  code: string,
  message: string,
) => PublishVerdict

/**
 * How twin and command handlers refuse a message, as ingestion does for telemetry: the refusal is
 * counted against the device (`GET /api/v1/devices/{id}/errors`), published to its `errors` topic
 * (so a 3.1.1 device, which gets no reason code, learns why), and the PUBACK carries the reason
 * code and `CODE: message` as its reason string (MQTT 5).
 */
export function deviceRefusal(deps: {
  errors: DeviceErrors
  publish: (m: ServerMessage) => Promise<void>
  clock: () => number
  log: Logger
  onRefused?: (code: string) => void
}): RefuseDeviceMessage {
  return (deviceId, topic, reasonCode, code, message) => {
    deps.errors.record(deviceId, code, message, topic)
    deps.onRefused?.(code)
    const body = JSON.stringify({ topic, error: { code, message }, ts: deps.clock() })
    deps
      .publish({ topic: deviceTopics(deviceId).errors, payload: body, qos: 1 })
      .catch((err: unknown) => {
        deps.log.warn({ err, deviceId }, 'could not publish a device error')
      })
    return { reasonCode, reason: `${code}: ${message}`.slice(0, 512) }
  }
}
