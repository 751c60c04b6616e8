import {
  deviceTopics,
  decodeDeviceMessage,
  isStrataError,
  parseTopicName,
  provisioningTopics,
  type ProvisioningResponse,
} from '@strata/protocol'
import type { BrokerMessage, ClientInfo, PublishVerdict, ServerMessage } from '@strata/mqtt'
import { reasonCodes } from '@strata/mqtt'
import { attributesOf } from '../broker-access/device-access.js'
import type { DeviceCertificates } from './device-certificates.js'

/**
 * Claim-based provisioning over MQTT: a client connected with a claim token publishes its CSR to
 * `strata/v1/provisioning/{clientId}/request` and gets its certificate (or why not) on
 * `…/response`. The device id is the client id it connected with.
 */
export function provisioningHandler(deps: {
  certificates: DeviceCertificates
  publish: (m: ServerMessage) => Promise<void>
}): (client: ClientInfo, message: BrokerMessage) => Promise<PublishVerdict> {
  return async (client, message) => {
    const attrs = attributesOf(client)
    const parsed = parseTopicName(message.topic)
    if (
      attrs?.kind !== 'provisioning' ||
      attrs.claimId === undefined ||
      parsed?.kind !== 'provisioning.request'
    ) {
      return {
        reasonCode: reasonCodes.notAuthorized,
        reason: 'only a client connected with a claim token provisions',
      }
    }
    let response: ProvisioningResponse
    let verdict: PublishVerdict
    try {
      const decoded = decodeDeviceMessage('provisioning.request', parsed.format, message.payload)
      if (decoded.kind !== 'provisioning.request') throw new Error('unreachable')
      const issued = await deps.certificates.provision(
        attrs.claimId,
        client.clientId,
        decoded.request,
      )
      response = {
        status: 'ok',
        deviceId: issued.deviceId,
        certificate: issued.certificatePem,
        caChain: [...issued.caChain],
      }
    } catch (err) {
      if (!isStrataError(err)) throw err
      response = { status: 'error', error: { code: err.code, message: err.message } }
      verdict = {
        reasonCode: err.code.startsWith('PROTOCOL_')
          ? reasonCodes.payloadFormatInvalid
          : reasonCodes.implementationSpecificError,
        reason: `${err.code}: ${err.message}`,
      }
    }
    await deps.publish({
      topic: provisioningTopics(client.clientId).response,
      payload: JSON.stringify(response),
      qos: 1,
    })
    return verdict
  }
}

/**
 * Certificate renewal over MQTT: a connected device publishes a CSR to `certificate/request` and
 * gets its new certificate (or why not) on `certificate/response`.
 */
export function certificateRenewalHandler(deps: {
  certificates: DeviceCertificates
  publish: (m: ServerMessage) => Promise<void>
}): (client: ClientInfo, message: BrokerMessage) => Promise<PublishVerdict> {
  return async (client, message) => {
    const attrs = attributesOf(client)
    const parsed = parseTopicName(message.topic)
    if (
      attrs?.kind !== 'device' ||
      attrs.deviceId === undefined ||
      parsed?.kind !== 'certificate.request'
    ) {
      return {
        reasonCode: reasonCodes.notAuthorized,
        reason: 'only a device renews its certificate',
      }
    }
    const deviceId = attrs.deviceId
    let requestId: string | undefined
    let response: Record<string, unknown>
    let verdict: PublishVerdict
    try {
      const decoded = decodeDeviceMessage('certificate.request', parsed.format, message.payload)
      if (decoded.kind !== 'certificate.request') throw new Error('unreachable')
      requestId = decoded.request.requestId
      const issued = await deps.certificates.renew(deviceId, decoded.request.csr)
      response = { status: 'ok', certificate: issued.certificatePem, caChain: issued.caChain }
    } catch (err) {
      if (!isStrataError(err)) throw err
      response = { status: 'error', error: { code: err.code, message: err.message } }
      verdict = {
        reasonCode: err.code.startsWith('PROTOCOL_')
          ? reasonCodes.payloadFormatInvalid
          : reasonCodes.implementationSpecificError,
        reason: `${err.code}: ${err.message}`,
      }
    }
    const body = { ...response, ...(requestId === undefined ? {} : { requestId }) }
    await deps.publish({
      topic: deviceTopics(deviceId).certificateResponse,
      payload: JSON.stringify(body),
      qos: 1,
    })
    return verdict
  }
}
