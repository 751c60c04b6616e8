import { checkTopic } from '@strata/protocol'
import type { IConnectPacket } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'
import { reason } from '../connection/reason-codes.js'
import { userPropertiesFromRecord, type BrokerMessage } from '../message.js'
import { messageFromPublish } from './message-from-publish.js'

/** A reason to refuse a CONNECT before authenticating it. */
export interface ConnectProblem {
  readonly reasonCode: number
  readonly why: string
}

/** Checks what the codec does not: client id rules and the v5 properties' ranges. */
export function validateConnect(
  conn: Connection,
  packet: IConnectPacket,
): ConnectProblem | undefined {
  const limits = conn.core.options.limits
  const clientId = packet.clientId
  if (Buffer.byteLength(clientId) > limits.maxClientIdBytes) {
    return {
      reasonCode: reason.clientIdentifierNotValid,
      why: `client id longer than ${String(limits.maxClientIdBytes)} bytes`,
    }
  }
  // [MQTT-3.1.3-8] 3.1.1: an empty client id needs a clean session.
  if (clientId === '' && conn.version !== 5 && packet.clean === false) {
    return {
      reasonCode: reason.clientIdentifierNotValid,
      why: 'an empty client id needs clean session',
    }
  }
  if (packet.username?.includes('\u0000') === true)
    return { reasonCode: reason.malformedPacket, why: 'user name contains NUL' }
  // [MQTT-3.1.2-22] 3.1.1: a password needs a user name.
  if (conn.version !== 5 && packet.password !== undefined && packet.username === undefined) {
    return { reasonCode: reason.malformedPacket, why: 'a password without a user name' }
  }
  const will = packet.will?.properties as Record<string, unknown> | undefined
  // A will carries message properties only (MQTT 5 §3.1.3.2; Mosquitto CVE-2023-3592).
  if (will !== undefined && ('subscriptionIdentifier' in will || 'topicAlias' in will)) {
    return { reasonCode: reason.malformedPacket, why: 'will properties a will may not carry' }
  }
  if ((packet.will?.qos ?? 0) > 2) return { reasonCode: reason.malformedPacket, why: 'will QoS 3' }
  if (clientId.includes('\u0000'))
    return { reasonCode: reason.clientIdentifierNotValid, why: 'client id contains NUL' }
  const p = packet.properties
  // (MQTT 5 §3.1.2) Receive Maximum and Maximum Packet Size of 0 are protocol errors.
  if (p?.receiveMaximum === 0) return { reasonCode: reason.protocolError, why: 'Receive Maximum 0' }
  if (p?.maximumPacketSize === 0)
    return { reasonCode: reason.protocolError, why: 'Maximum Packet Size 0' }
  if (p?.authenticationMethod !== undefined) {
    return {
      reasonCode: reason.badAuthenticationMethod,
      why: `authentication method ${p.authenticationMethod} is not supported`,
    }
  }
  return undefined
}

/**
 * The will of a CONNECT as a message, after the checks a PUBLISH would get: a valid topic
 * (Mosquitto CVE-2021-34432, CVE-2023-3592), a supported QoS and retain, and the publish ACL.
 */
export function buildWill(
  conn: Connection,
  packet: IConnectPacket,
): { message: BrokerMessage; delaySec: number } | ConnectProblem | undefined {
  const will = packet.will
  if (will === undefined) return undefined
  const { options, hooks, clock } = conn.core
  const check = checkTopic(will.topic, 'name', options.limits)
  if (!check.ok) return { reasonCode: reason.topicNameInvalid, why: `will topic: ${check.reason}` }
  const qos = will.qos ?? 0
  if (qos > options.maxQos)
    return { reasonCode: reason.qosNotSupported, why: 'will QoS not supported' }
  if (will.retain === true && !options.retainAvailable)
    return { reasonCode: reason.retainNotSupported, why: 'retain not supported' }
  if (conn.client !== undefined && hooks.authorizePublish !== undefined) {
    const decision = hooks.authorizePublish(conn.client, will.topic, qos, will.retain === true)
    if (!decision.allowed)
      return {
        reasonCode: decision.reasonCode ?? reason.notAuthorized,
        why: `will topic: ${decision.reason ?? 'not authorized'}`,
      }
  }
  const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload
  // CONNECT is decoded by mqtt-packet, which keys will User Properties by name: each name's
  // values keep their order, but the order among names is lost (integer-like names come
  // first). Only PUBLISH, decoded by hand, keeps it whole [MQTT-3.3.2-18].
  const { userProperties, ...properties } = will.properties ?? {}
  const message = messageFromPublish(
    {
      topic: will.topic,
      payload,
      qos,
      retain: will.retain === true,
      properties:
        userProperties === undefined
          ? properties
          : { ...properties, userProperties: userPropertiesFromRecord(userProperties) },
    },
    conn.clientId,
    clock(),
  )
  return { message, delaySec: will.properties?.willDelayInterval ?? 0 }
}
