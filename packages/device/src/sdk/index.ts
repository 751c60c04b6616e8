/**
 * The Strata device SDK for Linux-class devices (issue 7), on MQTT.js: connect with a token or a
 * certificate, telemetry with batching and an offline buffer, the twin, commands, events, the
 * firmware seam, and claim-based provisioning. docs/device-sdk.md is the guide.
 */
export { createDeviceClient } from './device-client.js'
export type { DeviceClient, TelemetryApi } from './device-client-api.js'
export { deviceSubscriptions } from './device-subscriptions.js'
export {
  defaultDeviceClientOptions,
  type DeviceClientDeps,
  type DeviceClientOptions,
  type DeviceCredentials,
} from './device-client-options.js'
export type {
  CloudErrorReport,
  DeviceClientEvents,
  DeviceClientState,
  DeviceClientStats,
} from './device-client-events.js'
export type { TelemetryInput, TelemetryRefusal, TelemetryStats } from './telemetry-sender.js'
export type { DesiredChange, DesiredHandler, TwinApi, TwinSnapshot } from './twin-client.js'
export type {
  CommandContext,
  CommandHandler,
  CommandStats,
  CommandsApi,
  DeviceCommand,
} from './command-dispatcher.js'
export type {
  FirmwareApi,
  FirmwareOfferHandler,
  FirmwareProgressReport,
} from './firmware-client.js'
export type { EventsApi } from './event-sender.js'
export { classifyConnectRefusal, type ConnectRefusal } from './reason-codes.js'
export { provisionWithClaim, type ProvisionOptions } from './provision-with-claim.js'
export {
  identityFiles,
  loadIdentity,
  saveIdentity,
  type DeviceIdentity,
} from './device-identity.js'
