import { randomUUID } from 'node:crypto'
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet'
import type { Connection } from '../connection/connection.js'
import { connackReturnCodeV3, reason } from '../connection/reason-codes.js'
import type { AuthenticateResult, ConnectContext } from '../hooks/broker-hooks.js'
import { validateConnect, buildWill } from './connect-validation.js'

/**
 * CONNECT (MQTT 5 §3.1): validate, admit (limits), authenticate through the platform's hook,
 * take over or start the session, answer CONNACK, then resend what the session owes.
 */
export function handleConnect(conn: Connection, packet: IConnectPacket): void {
  const version = packet.protocolVersion ?? 4
  conn.version = version
  conn.decoder.setProtocolVersion(version)
  // Known before any answer, so even a refusing CONNACK respects it [MQTT-3.2.2-19].
  conn.clientMaxPacketBytes = packet.properties?.maximumPacketSize ?? Number.POSITIVE_INFINITY
  const problem = validateConnect(conn, packet)
  if (problem !== undefined) return refuse(conn, problem.reasonCode, problem.why)
  const admission = conn.core.admit(conn.info)
  if (admission !== undefined) return refuse(conn, admission, 'connection limit reached')
  conn.state = 'authenticating'
  conn.clientId = packet.clientId
  Promise.resolve()
    .then(() => conn.core.hooks.authenticate(connectContext(conn, packet)))
    .then(
      (result) => {
        try {
          onAuthenticated(conn, packet, result)
        } catch (err) {
          conn.log.error({ err, clientId: packet.clientId }, 'connect failed')
          conn.close('internal error', {
            reasonCode: reason.implementationSpecificError,
            publishWill: false,
          })
        }
      },
      (err: unknown) => {
        conn.log.error({ err, clientId: packet.clientId }, 'authenticate hook failed')
        refuse(conn, reason.unspecifiedError, 'authentication failed')
      },
    )
}

function connectContext(conn: Connection, packet: IConnectPacket): ConnectContext {
  const method = packet.properties?.authenticationMethod
  return {
    clientId: packet.clientId,
    protocolVersion: conn.version,
    remoteAddress: conn.info.remoteAddress,
    listener: conn.info.listener,
    ...(packet.username === undefined ? {} : { username: packet.username }),
    ...(packet.password === undefined ? {} : { password: packet.password }),
    ...(conn.info.tls === undefined ? {} : { tls: conn.info.tls }),
    ...(method === undefined ? {} : { authenticationMethod: method }),
  }
}

function onAuthenticated(
  conn: Connection,
  packet: IConnectPacket,
  result: AuthenticateResult,
): void {
  if (conn.state !== 'authenticating') return // the socket closed meanwhile
  if (!result.ok) {
    conn.core.metrics.authFailures++
    conn.log.info(
      { clientId: packet.clientId, reasonCode: result.reasonCode, why: result.reason },
      'connection refused',
    )
    return refuse(conn, result.reasonCode, result.reason ?? 'not authorized')
  }
  const core = conn.core
  const limits = core.options.limits
  const assigned = packet.clientId === '' ? `auto-${randomUUID()}` : undefined
  const clientId = assigned ?? packet.clientId
  conn.clientId = clientId
  conn.client = { clientId, identity: result.identity, protocolVersion: conn.version }
  const will = buildWill(conn, packet)
  if (will !== undefined && 'reasonCode' in will) return refuse(conn, will.reasonCode, will.why)
  conn.will = will
  const properties = packet.properties ?? {}
  // The client's Receive Maximum, but never more in flight than our own bound.
  conn.receiveMaximum = Math.min(properties.receiveMaximum ?? 65_535, limits.maxInflightOut)
  conn.requestProblemInformation = properties.requestProblemInformation !== false
  conn.clientMaxPacketBytes = properties.maximumPacketSize ?? Number.POSITIVE_INFINITY
  conn.clientTopicAliasMaximum = properties.topicAliasMaximum ?? 0
  const requested =
    conn.version === 5
      ? (properties.sessionExpiryInterval ?? 0)
      : packet.clean === true
        ? 0
        : limits.maxSessionExpirySec
  const expiry = Math.min(requested, limits.maxSessionExpirySec)
  const cleanStart = packet.clean !== false
  const { session, present } = core.attachSession(
    conn,
    clientId,
    cleanStart,
    expiry,
    result.identity,
  )
  conn.session = session
  conn.state = 'connected'
  const keepAlive =
    limits.maxKeepAliveSec > 0 &&
    (packet.keepalive === 0 || (packet.keepalive ?? 0) > limits.maxKeepAliveSec)
      ? limits.maxKeepAliveSec
      : (packet.keepalive ?? 0)
  conn.send(
    connack(conn, present, {
      assigned,
      keepAlive: keepAlive !== packet.keepalive ? keepAlive : undefined,
      expiry: expiry !== requested ? expiry : undefined,
    }),
  )
  conn.startKeepAlive(keepAlive)
  session.outbox.attach(conn)
  core.hooks.onConnect?.(conn.client)
  conn.debug({ version: conn.version, sessionPresent: present, expiry }, 'client connected')
  conn.releaseHeldFrames()
}

function connack(
  conn: Connection,
  sessionPresent: boolean,
  changed: {
    assigned: string | undefined
    keepAlive: number | undefined
    expiry: number | undefined
  },
): IConnackPacket {
  if (conn.version !== 5) return { cmd: 'connack', returnCode: 0, sessionPresent }
  const { options } = conn.core
  return {
    cmd: 'connack',
    reasonCode: reason.success,
    sessionPresent,
    properties: {
      receiveMaximum: options.limits.receiveMaximum,
      maximumPacketSize: options.limits.maxPacketBytes,
      topicAliasMaximum: options.limits.topicAliasMaximum,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
      ...(options.maxQos < 2 ? { maximumQoS: options.maxQos } : {}),
      ...(options.retainAvailable ? {} : { retainAvailable: false }),
      ...(changed.assigned === undefined ? {} : { assignedClientIdentifier: changed.assigned }),
      ...(changed.keepAlive === undefined ? {} : { serverKeepAlive: changed.keepAlive }),
      ...(changed.expiry === undefined ? {} : { sessionExpiryInterval: changed.expiry }),
    },
  }
}

/** Answers CONNACK with a refusal and closes [MQTT-3.2.2-5]; 3.1.1 gets its return code. */
export function refuse(conn: Connection, reasonCode: number, why: string): void {
  // [MQTT-3.1.4-1] a malformed CONNECT on 3.1.1 is closed without CONNACK (it has no code for it).
  if (conn.version !== 5 && reasonCode === reason.malformedPacket) {
    conn.close(`refused: ${why}`, { publishWill: false })
    return
  }
  const packet: IConnackPacket =
    conn.version === 5
      ? {
          cmd: 'connack',
          reasonCode,
          sessionPresent: false,
          properties: { reasonString: why.slice(0, 256) },
        }
      : { cmd: 'connack', returnCode: connackReturnCodeV3(reasonCode), sessionPresent: false }
  conn.state = 'awaiting-connect'
  conn.send(packet)
  conn.close(`refused: ${why}`, { publishWill: false })
}
