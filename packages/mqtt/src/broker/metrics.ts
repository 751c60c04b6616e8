/** Counters the broker keeps, published under `$SYS/broker/…` and readable by the embedder. */
export interface BrokerMetrics {
  connectionsAccepted: number
  authFailures: number
  messagesReceived: number
  messagesSent: number
  messagesDropped: number
  publishDenied: number
  subscribeDenied: number
  limitBreaches: number
  bytesReceived: number
  bytesSent: number
}

export function createMetrics(): BrokerMetrics {
  return {
    connectionsAccepted: 0,
    authFailures: 0,
    messagesReceived: 0,
    messagesSent: 0,
    messagesDropped: 0,
    publishDenied: 0,
    subscribeDenied: 0,
    limitBreaches: 0,
    bytesReceived: 0,
    bytesSent: 0,
  }
}
