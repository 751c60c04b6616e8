import { decodeDeviceMessage, isStrataError, parseTopicName } from '@strata/protocol'
import { reasonCodes, type BrokerMessage, type PublishVerdict } from '@strata/mqtt'
import type { Logger } from 'pino'
import type { MessageHandler } from '../ingestion/device-messages.js'
import type { RefuseDeviceMessage } from '../twins/device-refusal.js'
import type { DeviceCommands } from './device-commands.js'

/**
 * `commands/response/{id}`: a device's answer, matched to its command by the MQTT 5 correlation
 * data when the device sent it back, else by the `{id}` level of the topic (3.1.1). An answer that
 * does not decode is refused with 0x99; one for a command that does not exist or belongs to
 * another device with 0x83 (`CLOUD_COMMAND_UNKNOWN`), both also on the device's `errors` topic.
 */
export function commandResponseHandler(deps: {
  commands: DeviceCommands
  refuse: RefuseDeviceMessage
  log: Logger
}): MessageHandler {
  return (_client, message) => Promise.resolve(answer(deps, message))
}

function answer(
  deps: { commands: DeviceCommands; refuse: RefuseDeviceMessage; log: Logger },
  message: BrokerMessage,
): PublishVerdict {
  const parsed = parseTopicName(message.topic)
  if (parsed?.kind !== 'command.response' || parsed.format === 'lp')
    return reasonCodes.topicNameInvalid
  const deviceId = parsed.owner
  const correlation = message.properties.correlationData
  const commandId =
    correlation === undefined || correlation.length === 0
      ? (parsed.param ?? '')
      : Buffer.from(correlation).toString('utf8')
  try {
    if (parsed.param !== undefined && commandId !== parsed.param) {
      return deps.refuse(
        deviceId,
        message.topic,
        reasonCodes.payloadFormatInvalid,
        'PROTOCOL_INVALID',
        `the correlation data names command ${JSON.stringify(commandId.slice(0, 80))}, the topic ${parsed.param}`,
      )
    }
    const decoded = decodeDeviceMessage('command.response', parsed.format, message.payload)
    if (decoded.kind !== 'command.response') throw new Error('unreachable')
    const outcome = deps.commands.respond(deviceId, commandId, decoded.response)
    if (outcome === 'late')
      deps.log.info({ deviceId, commandId }, 'answer to an expired command kept')
    return undefined
  } catch (err) {
    if (!isStrataError(err)) throw err
    const invalid = err.code.startsWith('PROTOCOL_')
    return deps.refuse(
      deviceId,
      message.topic,
      invalid ? reasonCodes.payloadFormatInvalid : reasonCodes.implementationSpecificError,
      err.code,
      err.message,
    )
  }
}
