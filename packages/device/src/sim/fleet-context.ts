import type { Logger } from 'pino'
import type { BootloaderState } from '../bootloader/bootloader.js'
import type { LinkConfig } from '../link/link-types.js'
import type { Scheduler } from '../link/scheduler.js'
import type { FleetCounters } from './fleet-stats.js'
import type { ResolvedProfile } from './sim-profile.js'
import type { SignalPlan } from './signal-generator.js'

/** What every device of a fleet shares: one object, referenced by each. */
export interface FleetContext {
  readonly profile: ResolvedProfile
  readonly plan: SignalPlan
  readonly scheduler: Scheduler
  readonly link: LinkConfig
  readonly counters: FleetCounters
  readonly log: Logger | undefined
  /** The factory state every device starts from (booted, slot A good): shared until it changes. */
  readonly factoryBoot: BootloaderState
  /** Bytes one telemetry record takes in the payload, measured once, for the RAM budget. */
  readonly recordBytes: number
  /** Set by `close()`: devices stop reconnecting and scheduling. */
  closing: boolean
  /** Called whenever a device's link closes (close() counts them down). */
  onLinkClosed(): void
}
