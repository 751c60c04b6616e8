/** MQTT 5 reason codes the broker sends (MQTT 5 §2.4), by name. */
export const reason = {
  success: 0x00,
  grantedQos1: 0x01,
  grantedQos2: 0x02,
  disconnectWithWill: 0x04,
  noMatchingSubscribers: 0x10,
  noSubscriptionExisted: 0x11,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecificError: 0x83,
  unsupportedProtocolVersion: 0x84,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverBusy: 0x89,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdentifierInUse: 0x91,
  packetIdentifierNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  administrativeAction: 0x98,
  payloadFormatInvalid: 0x99,
  retainNotSupported: 0x9a,
  qosNotSupported: 0x9b,
  serverShuttingDown: 0x8b,
  sharedSubscriptionsNotSupported: 0x9e,
  connectionRateExceeded: 0x9f,
  wildcardSubscriptionsNotSupported: 0xa2,
} as const

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3) for an MQTT 5 reason code. */
export function connackReturnCodeV3(reasonCode: number): number {
  switch (reasonCode) {
    case reason.success:
      return 0
    case reason.unsupportedProtocolVersion:
      return 1
    case reason.clientIdentifierNotValid:
      return 2
    case reason.serverBusy:
    case reason.serverShuttingDown:
    case reason.connectionRateExceeded:
    case reason.quotaExceeded:
      return 3
    case reason.badUserNameOrPassword:
    case reason.badAuthenticationMethod:
      return 4
    default:
      return 5
  }
}
