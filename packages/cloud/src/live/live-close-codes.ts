/** WebSocket close codes of the live feed (4xxx are ours, after HTTP statuses). */
export const liveCloseCodes = {
  /** The node is shutting down. */
  goingAway: 1001,
  /** Frames over the inbound rate, or too many before authentication finished. */
  policyViolation: 1008,
  /** A frame over 64 KiB (sent by `ws` itself). */
  tooLarge: 1009,
  /** The node holds as many live connections as it allows: try again later. */
  tryAgainLater: 1013,
  /** No token, a bad one, none in time, or it was revoked or expired while connected. */
  unauthenticated: 4401,
  /** The token holds as many live connections as it may. */
  tooManyForToken: 4429,
} as const
