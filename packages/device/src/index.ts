/**
 * `@strata/device`: the device side of Strata. Today it holds the simulated A/B bootloader
 * (issue 7), a pure state machine the SDK's OTA and the fleet simulator drive.
 *
 * @example
 * import { boot, confirm, createBootControl, createBootloaderState, install, requestTrial } from '@strata/device'
 *
 * const sha = (c: string) => c.repeat(64)
 * let s = boot(createBootloaderState(createBootControl({ version: '1.0.0', securityVersion: 1, sha256: sha('a') }))).state
 * s = install(s, { version: '1.1.0', securityVersion: 2, sha256: sha('b') }).state
 * s = requestTrial(s).state
 * const trial = boot(s) // { booted: 'B', reason: 'trial', attempt: 1 }
 * const done = confirm(trial.state) // progress 'confirmed'; B is now the default, floor 2
 *
 * @packageDocumentation
 */
export { DeviceError, deviceErrorCodes, type DeviceErrorCode } from './errors.js'
export {
  createBootControl,
  maxSecurityVersion,
  otherSlot,
  type BootControl,
  type Slot,
  type SlotImage,
  type SlotName,
  type SlotState,
} from './bootloader/boot-control.js'
export {
  checkBootControl,
  decodeBootControl,
  encodeBootControl,
} from './bootloader/boot-control-codec.js'
export {
  confirm,
  confirmDeadlinePassed,
  createBootloaderState,
  defaultBootOptions,
  install,
  isTrialRunning,
  powerLoss,
  requestTrial,
  type BootOptions,
  type BootOutcome,
  type BootProgress,
  type BootReason,
  type BootStep,
  type BootloaderState,
} from './bootloader/bootloader.js'
export { boot } from './bootloader/boot.js'
export {
  classifyConnectRefusal,
  createDeviceClient,
  defaultDeviceClientOptions,
  deviceSubscriptions,
  identityFiles,
  loadIdentity,
  provisionWithClaim,
  saveIdentity,
  type CloudErrorReport,
  type CommandContext,
  type CommandHandler,
  type CommandStats,
  type CommandsApi,
  type ConnectRefusal,
  type DesiredChange,
  type DesiredHandler,
  type DeviceClient,
  type DeviceClientDeps,
  type DeviceClientEvents,
  type DeviceClientOptions,
  type DeviceClientState,
  type DeviceClientStats,
  type DeviceCommand,
  type DeviceCredentials,
  type DeviceIdentity,
  type EventsApi,
  type FirmwareApi,
  type FirmwareOfferHandler,
  type FirmwareProgressReport,
  type ProvisionOptions,
  type TelemetryApi,
  type TelemetryInput,
  type TelemetryRefusal,
  type TelemetryStats,
  type TwinApi,
  type TwinSnapshot,
} from './sdk/index.js'
export {
  BooleanSignal,
  CounterSignal,
  EnumSignal,
  FaultTarget,
  FloatSignal,
  SignalAnomalies,
  SimFault,
  SimProfile,
  SimSignal,
  createFleet,
  decodeFaultTarget,
  decodeSimFault,
  decodeSimProfile,
  defaultSimProfile,
  simFaultKinds,
  type Fleet,
  type FleetOptions,
  type FleetStats,
  type SimDeviceState,
  type SimDeviceView,
  type SimFaultKind,
  type SimIdentity,
  type SimLastError,
  type SimSlotView,
} from './sim/index.js'
