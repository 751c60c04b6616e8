import type { DeviceError } from '../errors.js'
import type { CommandStats } from './command-dispatcher.js'
import type { ConnectionState } from './device-connection.js'
import type { TelemetryRefusal, TelemetryStats } from './telemetry-sender.js'

/** Where the client stands: `connecting`, `online`, `offline` (with why and when it retries), `closed`. */
export type DeviceClientState = ConnectionState

/** A refusal the cloud published on the device's `errors` topic (docs/protocol.md §8). */
export interface CloudErrorReport {
  /** The topic of the message that was refused. */
  readonly topic: string
  readonly error: { readonly code: string; readonly message: string }
  readonly ts?: number
}

/**
 * The events a `DeviceClient` emits. There is no `error` event (an unhandled one would end the
 * process): a refusal that stops the client is `fatal`, everything else that went wrong but is
 * handled is `warning`.
 */
export interface DeviceClientEvents {
  /** Every state change. */
  state: [state: DeviceClientState]
  connecting: [info: { attempt: number }]
  online: [info: { sessionPresent: boolean }]
  offline: [info: { reason: string; retryInMs: number; attempt: number }]
  /** Final. `error` is set when a refusal closed it (see `fatal`). */
  closed: [info: { reason: string; error?: DeviceError }]
  /** The broker refused the connection for a reason retrying cannot fix; the client is closed. */
  fatal: [error: DeviceError]
  /** A telemetry message the broker refused (PUBACK ≥ 0x80); its records were dropped. */
  refused: [refusal: TelemetryRefusal]
  /** The offline buffer was full: the oldest records were dropped. */
  dropped: [info: { records: number; total: number }]
  /** The cloud reported a refused message on the `errors` topic. */
  cloudError: [report: CloudErrorReport]
  /** Something was skipped or failed without stopping the client (a bad cloud message, a handler that threw). */
  warning: [error: DeviceError]
}

/** Counters since the client was created. */
export interface DeviceClientStats {
  readonly telemetry: TelemetryStats
  readonly commands: CommandStats
  /** Other messages waiting for their acknowledgement. */
  readonly outboxPending: number
  readonly cloudErrors: number
}
