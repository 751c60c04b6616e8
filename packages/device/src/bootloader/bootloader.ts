import { DeviceError } from '../errors.js'
import {
  assertImage,
  otherSlot,
  type BootControl,
  type Slot,
  type SlotImage,
  type SlotName,
} from './boot-control.js'

/**
 * The whole simulated device as the bootloader sees it: the persisted record and, volatile, the
 * slot whose image runs now (null while the device is off or resetting).
 */
export interface BootloaderState {
  readonly control: BootControl
  readonly running: SlotName | null
}

/** Why the bootloader chose the slot it booted. */
export type BootReason =
  'normal' | 'trial' | 'reverted: not confirmed' | 'reverted: crash loop' | 'reverted: bad image'

/** The firmware progress states (protocol `FirmwareState`) a bootloader step maps to. */
export type BootProgress = 'rebooting' | 'confirmed' | 'rolled-back' | 'failed'

/** What a step did, for the simulator's log and the SDK's `firmware/progress` report. */
export interface BootOutcome {
  /** The slot now running, null when the step leaves the device off. */
  readonly booted: SlotName | null
  /** Set by `boot`. */
  readonly reason?: BootReason
  /** Which boot of the trial this was (1 … maxTrialBoots), set on trial boots. */
  readonly attempt?: number
  /** The firmware progress state to report, when the step maps to one. */
  readonly progress?: BootProgress
}

/** The result of every transition: the next state and what happened. */
export interface BootStep {
  readonly state: BootloaderState
  readonly outcome: BootOutcome
}

/** Bootloader settings (U-Boot's `bootlimit`) and the hash check it runs. */
export interface BootOptions {
  /** Boots a trial image gets without confirming before the bootloader reverts (≥ 1). */
  readonly maxTrialBoots?: number
  /** The SHA-256 of a slot's bytes as read from flash; defaults to trusting the record. */
  readonly readSha256?: (slot: SlotName) => string
}

/** Three boots, as U-Boot's `bootlimit` examples and RAUC's default boot attempts. */
export const defaultBootOptions = { maxTrialBoots: 3 } as const

function withSlot(control: BootControl, name: SlotName, slot: Slot): BootControl {
  return { ...control, slots: { ...control.slots, [name]: slot } }
}

function requireRunning(state: BootloaderState, action: string): SlotName {
  if (state.running === null) {
    throw new DeviceError('DEVICE_NOT_RUNNING', `cannot ${action}: the device is not booted`, {
      hint: 'Call boot() first.',
    })
  }
  return state.running
}

function requireTesting(state: BootloaderState, action: string): SlotName {
  const running = requireRunning(state, action)
  const slot = state.control.slots[running]
  if (slot.state !== 'testing') {
    throw new DeviceError(
      'DEVICE_NOT_TESTING',
      `cannot ${action}: slot ${running} is ${slot.state}, not on trial`,
      { hint: 'Only an image booted on trial confirms itself; check isTrialRunning() first.' },
    )
  }
  return running
}

function requireFloor(image: SlotImage, floor: number, slot: SlotName): void {
  if (image.securityVersion < floor) {
    throw new DeviceError(
      'DEVICE_ROLLBACK',
      `image ${image.version} for slot ${slot} has security version ${String(image.securityVersion)}, below the floor ${String(floor)}`,
      { hint: 'Build the image with a security version at least the device floor.' },
    )
  }
}

/** A device that is off, with `control` persisted: call `boot` to power it on. *
 * @example
 * const state = createBootloaderState(decodeBootControl(text))
 */
export function createBootloaderState(control: BootControl): BootloaderState {
  return { control, running: null }
}

/** True when the running image is on trial and must confirm itself. *
 * @example
 * if (isTrialRunning(state)) state = confirm(state).state
 */
export function isTrialRunning(state: BootloaderState): boolean {
  return state.running !== null && state.control.slots[state.running].state === 'testing'
}

/**
 * The running image writes `image` to the inactive slot (state `installed`). Refused during a
 * trial (DEVICE_TRIAL_IN_PROGRESS) and below the anti-rollback floor (DEVICE_ROLLBACK). A real
 * device erases the slot's record first, writes flash, then commits: a power loss in between
 * leaves the old record, which this model's atomic step stands for.
 *
 * @example
 * state = install(state, { version: '1.1.0', securityVersion: 2, sha256 }).state
 */
export function install(state: BootloaderState, image: SlotImage): BootStep {
  const running = requireRunning(state, 'install')
  assertImage(image)
  const { control } = state
  if (control.slots[running].state === 'testing') {
    throw new DeviceError(
      'DEVICE_TRIAL_IN_PROGRESS',
      `cannot install ${image.version}: slot ${running} is on trial`,
      { hint: 'Confirm the running image or let it revert, then install.' },
    )
  }
  const target = otherSlot(control.active)
  requireFloor(image, control.securityFloor, target)
  const next = withSlot(control, target, { image: { ...image }, state: 'installed' })
  return { state: { control: next, running }, outcome: { booted: running } }
}

/**
 * Marks the inactive slot to be tried once on the next boot (MCUboot `boot_set_pending`, Mender
 * and RAUC "boot once"). The slot must hold an installed, pending or previous good image at or
 * above the floor. Reports `rebooting`: the caller resets the device next.
 *
 * @example
 * state = requestTrial(state).state // then reset: boot(powerLoss(state).state)
 */
export function requestTrial(state: BootloaderState): BootStep {
  const running = requireRunning(state, 'request a trial')
  const { control } = state
  const target = otherSlot(control.active)
  const slot = control.slots[target]
  const triable = slot.state === 'installed' || slot.state === 'pending' || slot.state === 'good'
  if (slot.image === null || !triable || running !== control.active) {
    throw new DeviceError(
      'DEVICE_NO_IMAGE',
      `cannot try slot ${target}: it is ${slot.state}${running === control.active ? '' : ' and on trial'}`,
      { hint: 'Install an image first; a bad slot needs a new image.' },
    )
  }
  requireFloor(slot.image, control.securityFloor, target)
  const next = withSlot(control, target, { image: slot.image, state: 'pending' })
  return { state: { control: next, running }, outcome: { booted: running, progress: 'rebooting' } }
}

/**
 * The running trial image confirms itself (MCUboot `boot_set_confirmed`, ESP-IDF
 * `esp_ota_mark_app_valid_cancel_rollback`, U-Boot resetting `bootcount`): it becomes the default
 * slot and raises the anti-rollback floor to its security version.
 *
 * @example
 * const { outcome } = confirm(state) // outcome.progress === 'confirmed'
 */
export function confirm(state: BootloaderState): BootStep {
  const running = requireTesting(state, 'confirm')
  const { control } = state
  const image = control.slots[running].image as SlotImage
  const next: BootControl = {
    ...withSlot(control, running, { image, state: 'good' }),
    active: running,
    bootCount: 0,
    trialExpired: false,
    securityFloor: Math.max(control.securityFloor, image.securityVersion),
  }
  return { state: { control: next, running }, outcome: { booted: running, progress: 'confirmed' } }
}

/**
 * The trial image missed its confirm deadline: the watchdog records it and resets the device,
 * and the next boot reverts (ESP-IDF `esp_ota_mark_app_invalid_rollback_and_reboot`).
 *
 * @example
 * state = confirmDeadlinePassed(state).state // boot(state) reverts: 'reverted: not confirmed'
 */
export function confirmDeadlinePassed(state: BootloaderState): BootStep {
  requireTesting(state, 'expire the confirm deadline')
  const next: BootControl = { ...state.control, trialExpired: true }
  return { state: { control: next, running: null }, outcome: { booted: null } }
}

/**
 * Power is cut, or the image crashes or hangs and the watchdog resets it: the record keeps its last
 * completed write and nothing runs until `boot`. A trial interrupted so is retried, counted.
 *
 * @example
 * state = powerLoss(state).state // state.running === null
 */
export function powerLoss(state: BootloaderState): BootStep {
  return { state: { control: state.control, running: null }, outcome: { booted: null } }
}
