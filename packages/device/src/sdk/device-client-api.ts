import type { EventEmitter } from 'node:events'
import type { CommandsApi } from './command-dispatcher.js'
import type {
  DeviceClientEvents,
  DeviceClientState,
  DeviceClientStats,
} from './device-client-events.js'
import type { DeviceIdentity } from './device-identity.js'
import type { EventsApi } from './event-sender.js'
import type { FirmwareApi } from './firmware-client.js'
import type { TelemetryInput, TelemetryStats } from './telemetry-sender.js'
import type { TwinApi } from './twin-client.js'

/** `client.telemetry`. */
export interface TelemetryApi {
  /**
   * Queues measurements (a map of values, a `{ts, values, tags}` record, or an array of either);
   * throws `DEVICE_MESSAGE_INVALID` at once for what the cloud would refuse. Records without `ts`
   * are stamped now. They leave in batches, QoS 1; offline, they wait in a bounded buffer.
   */
  send(input: TelemetryInput): void
  /** Resolves when every record queued so far was acknowledged (or refused and reported). */
  flush(timeoutMs?: number): Promise<void>
  readonly stats: TelemetryStats
}

/** A device's connection to Strata: telemetry, twin, commands, events, the firmware seam. */
export interface DeviceClient extends EventEmitter<DeviceClientEvents> {
  readonly deviceId: string
  readonly state: DeviceClientState
  readonly telemetry: TelemetryApi
  readonly twin: TwinApi
  readonly commands: CommandsApi
  readonly firmware: FirmwareApi
  readonly events: EventsApi
  /** Resolves once online; rejects when the client closes first or after `timeoutMs`. */
  waitOnline(timeoutMs?: number): Promise<void>
  /** Same as `telemetry.flush`. */
  flush(timeoutMs?: number): Promise<void>
  stats(): DeviceClientStats
  /**
   * Renews the device certificate over this connection (docs/protocol.md §6.6): a new P-256 key
   * and CSR, answered with a new certificate. The connection keeps its current credentials; save
   * the result (`saveIdentity`) and connect with it next time. Rejects with
   * `DEVICE_PROVISIONING_FAILED` when refused, `DEVICE_TIMEOUT` after `timeoutMs` (default
   * `requestTimeoutMs`).
   */
  renewCertificate(options?: { timeoutMs?: number }): Promise<DeviceIdentity>
  /**
   * Flushes (up to `closeTimeoutMs`), sends DISCONNECT (normal: the session and its queued
   * commands are kept for the next connect) and closes. Idempotent.
   */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
