import {
  decodeDeviceMessage,
  deviceTopics,
  isStrataError,
  parseTopicName,
  provisioningTopics,
  type ParsedTopic,
} from '@strata/protocol'
import {
  reasonCodes,
  type BrokerMessage,
  type ClientInfo,
  type PublishVerdict,
  type ServerMessage,
} from '@strata/mqtt'
import { attributesOf, type DeviceIdentityAttributes } from '../broker-access/device-access.js'
import type { DeviceCertificates } from './device-certificates.js'

type Handler = (client: ClientInfo, message: BrokerMessage) => Promise<PublishVerdict>

interface HandlerDeps {
  readonly certificates: DeviceCertificates
  readonly publish: (m: ServerMessage) => Promise<void>
}

/**
 * Claim-based provisioning over MQTT: a client connected with a claim token publishes its CSR to
 * `strata/v1/provisioning/{clientId}/request` and gets its certificate (or why not) on
 * `…/response`. The device id is the client id it connected with.
 */
export function provisioningHandler(deps: HandlerDeps): Handler {
  return requestReply(deps, {
    kind: 'provisioning.request',
    refusal: 'only a client connected with a claim token provisions',
    admits: (a) => a.kind === 'provisioning' && a.claimId !== undefined,
    replyTopic: (client) => provisioningTopics(client.clientId).response,
    answer: async (client, attrs, parsed, payload) => {
      const decoded = decodeDeviceMessage('provisioning.request', parsed.format, payload)
      if (decoded.kind !== 'provisioning.request') throw new Error('unreachable')
      const issued = await deps.certificates.provision(
        attrs.claimId ?? '',
        client.clientId,
        decoded.request,
      )
      return {
        deviceId: issued.deviceId,
        certificate: issued.certificatePem,
        caChain: issued.caChain,
      }
    },
  })
}

/**
 * Certificate renewal over MQTT: a connected device publishes a CSR to `certificate/request` and
 * gets its new certificate (or why not) on `certificate/response`.
 */
export function certificateRenewalHandler(deps: HandlerDeps): Handler {
  return requestReply(deps, {
    kind: 'certificate.request',
    refusal: 'only a device renews its certificate',
    admits: (a) => a.kind === 'device' && a.deviceId !== undefined,
    replyTopic: (client) => deviceTopics(client.clientId).certificateResponse,
    answer: async (client, _attrs, parsed, payload, reply) => {
      const decoded = decodeDeviceMessage('certificate.request', parsed.format, payload)
      if (decoded.kind !== 'certificate.request') throw new Error('unreachable')
      reply.requestId = decoded.request.requestId
      const issued = await deps.certificates.renew(client.clientId, decoded.request.csr)
      return { certificate: issued.certificatePem, caChain: issued.caChain }
    },
  })
}

/**
 * One request, one reply on the client's own reply topic: `{status: 'ok', …}` or
 * `{status: 'error', error: {code, message}}`, and on MQTT 5 the PUBACK says why too.
 */
function requestReply(
  deps: HandlerDeps,
  spec: {
    readonly kind: ParsedTopic['kind']
    readonly refusal: string
    readonly admits: (attrs: DeviceIdentityAttributes) => boolean
    readonly replyTopic: (client: ClientInfo) => string
    readonly answer: (
      client: ClientInfo,
      attrs: DeviceIdentityAttributes,
      parsed: ParsedTopic,
      payload: Uint8Array,
      reply: { requestId?: string | undefined },
    ) => Promise<Record<string, unknown>>
  },
): Handler {
  return async (client, message) => {
    const attrs = attributesOf(client)
    const parsed = parseTopicName(message.topic)
    if (attrs === undefined || !spec.admits(attrs) || parsed?.kind !== spec.kind) {
      return { reasonCode: reasonCodes.notAuthorized, reason: spec.refusal }
    }
    // The request id, once read, goes back with the answer, whichever it is.
    const echo: { requestId?: string | undefined } = {}
    let reply: Record<string, unknown>
    let verdict: PublishVerdict
    try {
      reply = { status: 'ok', ...(await spec.answer(client, attrs, parsed, message.payload, echo)) }
    } catch (err) {
      if (!isStrataError(err)) throw err
      reply = { status: 'error', error: { code: err.code, message: err.message } }
      verdict = {
        reasonCode: err.code.startsWith('PROTOCOL_')
          ? reasonCodes.payloadFormatInvalid
          : reasonCodes.implementationSpecificError,
        reason: `${err.code}: ${err.message}`,
      }
    }
    if (echo.requestId !== undefined) reply['requestId'] = echo.requestId
    await deps.publish({ topic: spec.replyTopic(client), payload: JSON.stringify(reply), qos: 1 })
    return verdict
  }
}
