/**
 * The fleet simulator: thousands of simulated devices in one process, each with its own identity,
 * signals, sleep cycle, battery, A/B firmware and RAM/flash budget, with faults on demand.
 * docs/simulator.md describes the profile, the faults and the figures.
 */
export { createFleet, type Fleet } from './fleet.js'
export { type FleetOptions, type SimIdentity } from './fleet-options.js'
export { type FleetStats, type SimDeviceState } from './fleet-stats.js'
export { type SimDeviceView, type SimSlotView } from './device-view.js'
export { type SimLastError } from './sim-device.js'
export { SimProfile } from './sim-profile-schema.js'
export { decodeSimProfile, defaultSimProfile } from './sim-profile.js'
export {
  BooleanSignal,
  CounterSignal,
  EnumSignal,
  FloatSignal,
  Signal as SimSignal,
  SignalAnomalies,
} from './signal-schema.js'
export {
  FaultTarget,
  SimFault,
  decodeFaultTarget,
  decodeSimFault,
  simFaultKinds,
  type SimFaultKind,
} from './sim-fault.js'
