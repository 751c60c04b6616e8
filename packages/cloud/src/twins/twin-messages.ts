import { decodeDeviceMessage, deviceTopics, isStrataError, parseTopicName } from '@strata/protocol'
import {
  reasonCodes,
  type BrokerMessage,
  type ClientInfo,
  type PublishVerdict,
  type ServerMessage,
} from '@strata/mqtt'
import type { Logger } from 'pino'
import type { MessageHandler } from '../ingestion/device-messages.js'
import type { RefuseDeviceMessage } from './device-refusal.js'
import type { DeviceTwins } from './device-twins.js'

interface TwinHandlerDeps {
  readonly twins: DeviceTwins
  readonly publish: (m: ServerMessage) => Promise<void>
  readonly refuse: RefuseDeviceMessage
  readonly log: Logger
}

/**
 * `twin/reported`: the device's merge patch is merged into its reported side, versioned and kept
 * in the history (source `device`). A patch that does not decode, or that would take the document
 * over its limits, is answered on `twin/rejected` and refused with PUBACK 0x99.
 */
export function twinReportedHandler(deps: TwinHandlerDeps): MessageHandler {
  return async (client, message) =>
    handle(deps, client, message, 'twin.reported', (deviceId, format) => {
      const decoded = decodeDeviceMessage('twin.reported', format, message.payload)
      if (decoded.kind !== 'twin.reported') throw new Error('unreachable')
      deps.twins.applyReported(deviceId, decoded.patch)
      return Promise.resolve()
    })
}

/**
 * `twin/get`: the whole twin goes back on `twin/document` with the request id echoed; its `version`
 * is the desired version, which the device then holds.
 */
export function twinGetHandler(deps: TwinHandlerDeps): MessageHandler {
  return async (client, message) =>
    handle(deps, client, message, 'twin.get', async (deviceId, format, echo) => {
      const decoded = decodeDeviceMessage('twin.get', format, message.payload)
      if (decoded.kind !== 'twin.get') throw new Error('unreachable')
      echo.requestId = decoded.request.requestId
      const twin = deps.twins.read(deviceId)
      await deps.publish({
        topic: deviceTopics(deviceId).twinDocument,
        payload: JSON.stringify({
          ...(echo.requestId === undefined ? {} : { requestId: echo.requestId }),
          version: twin.desired.version,
          desired: twin.desired.document,
          reported: twin.reported.document,
        }),
        qos: 1,
      })
      deps.twins.markDelivered(deviceId, twin.desired.version)
    })
}

async function handle(
  deps: TwinHandlerDeps,
  _client: ClientInfo,
  message: BrokerMessage,
  kind: 'twin.reported' | 'twin.get',
  run: (
    deviceId: string,
    format: 'json' | 'cbor',
    echo: { requestId?: string | undefined },
  ) => Promise<void>,
): Promise<PublishVerdict> {
  const parsed = parseTopicName(message.topic)
  // The broker's authoriser let the publisher use this namespace: the topic names the twin.
  if (parsed?.kind !== kind || parsed.format === 'lp') return reasonCodes.topicNameInvalid
  const deviceId = parsed.owner
  const echo: { requestId?: string | undefined } = {}
  try {
    await run(deviceId, parsed.format, echo)
    return undefined
  } catch (err) {
    if (!isStrataError(err)) throw err
    const rejected = JSON.stringify({
      ...(echo.requestId === undefined ? {} : { requestId: echo.requestId }),
      error: { code: err.code, message: err.message.slice(0, 1024) },
    })
    deps
      .publish({ topic: deviceTopics(deviceId).twinRejected, payload: rejected, qos: 1 })
      .catch((e: unknown) => deps.log.warn({ err: e, deviceId }, 'twin/rejected not sent'))
    const invalid = err.code.startsWith('PROTOCOL_') || err.code === 'CLOUD_TWIN_TOO_LARGE'
    return deps.refuse(
      deviceId,
      message.topic,
      invalid ? reasonCodes.payloadFormatInvalid : reasonCodes.implementationSpecificError,
      err.code,
      err.message,
    )
  }
}
