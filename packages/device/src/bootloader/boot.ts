import { DeviceError } from '../errors.js'
import { otherSlot, type BootControl, type SlotImage, type SlotName } from './boot-control.js'
import {
  defaultBootOptions,
  type BootOptions,
  type BootProgress,
  type BootReason,
  type BootStep,
  type BootloaderState,
} from './bootloader.js'

function checkOptions(options: BootOptions): number {
  const max = options.maxTrialBoots ?? defaultBootOptions.maxTrialBoots
  if (!Number.isInteger(max) || max < 1) {
    throw new DeviceError('DEVICE_OPTIONS_INVALID', `maxTrialBoots ${String(max)} is not ≥ 1`, {
      hint: 'Give each trial image at least one boot.',
    })
  }
  return max
}

/** True when the slot's image may be booted: present, intact on flash, not below the floor. */
function bootable(control: BootControl, slot: SlotName, options: BootOptions): boolean {
  const image = control.slots[slot].image
  if (image === null || image.securityVersion < control.securityFloor) return false
  return options.readSha256 === undefined || options.readSha256(slot) === image.sha256
}

function markBad(control: BootControl, slot: SlotName): BootControl {
  const image = control.slots[slot].image
  return {
    ...control,
    slots: { ...control.slots, [slot]: { image, state: image === null ? 'empty' : 'bad' } },
    bootCount: 0,
    trialExpired: false,
  }
}

function started(
  control: BootControl,
  slot: SlotName,
  reason: BootReason,
  progress?: BootProgress,
  attempt?: number,
): BootStep {
  return {
    state: { control, running: slot },
    outcome: {
      booted: slot,
      reason,
      ...(progress === undefined ? {} : { progress }),
      ...(attempt === undefined ? {} : { attempt }),
    },
  }
}

/** A revert of a trial that ran is a rollback; an image that never ran has failed. */
function progressOf(reason: BootReason | undefined): BootProgress | undefined {
  if (reason === undefined || reason === 'normal' || reason === 'trial') return undefined
  return reason === 'reverted: bad image' ? 'failed' : 'rolled-back'
}

/** Boots the default slot, or falls back to the other good one when its hash check fails. */
function bootDefault(control: BootControl, options: BootOptions, reverted?: BootReason): BootStep {
  const active = control.active
  if (bootable(control, active, options))
    return started(control, active, reverted ?? 'normal', progressOf(reverted))
  const other = otherSlot(active)
  const next = { ...markBad(control, active), active: other }
  if (control.slots[other].state === 'good' && bootable(control, other, options))
    return started(next, other, 'reverted: bad image', 'failed')
  throw new DeviceError(
    'DEVICE_NO_BOOTABLE_IMAGE',
    `no bootable slot: ${active} fails its hash check, ${other} is ${control.slots[other].state}`,
    { hint: 'Reflash the device over its recovery interface.' },
  )
}

/**
 * The bootloader at power-on or after a reset: picks the slot to run and updates the record in one
 * write. A pending trial boots on trial (attempt 1); an unconfirmed trial boots again, counted, until
 * `maxTrialBoots` boots (crash loop) or an expired confirm deadline, when it is marked bad and the
 * default slot boots (revert). A slot whose bytes fail the hash check is marked bad and never
 * booted. Throws DEVICE_NO_BOOTABLE_IMAGE when nothing may boot.
 *
 * @example
 * let step = boot(createBootloaderState(control))
 * step.outcome // { booted: 'A', reason: 'normal' }
 */
export function boot(state: BootloaderState, options: BootOptions = {}): BootStep {
  const maxTrialBoots = checkOptions(options)
  const control = state.control
  const trial = otherSlot(control.active)
  const slot = control.slots[trial]
  if (slot.state === 'pending' || slot.state === 'testing') {
    const image = slot.image as SlotImage
    if (control.trialExpired)
      return bootDefault(markBad(control, trial), options, 'reverted: not confirmed')
    if (control.bootCount >= maxTrialBoots)
      return bootDefault(markBad(control, trial), options, 'reverted: crash loop')
    if (!bootable(control, trial, options))
      return bootDefault(markBad(control, trial), options, 'reverted: bad image')
    const bootCount = control.bootCount + 1
    const next: BootControl = {
      ...control,
      slots: { ...control.slots, [trial]: { image, state: 'testing' } },
      bootCount,
    }
    return started(next, trial, 'trial', undefined, bootCount)
  }
  return bootDefault(control, options)
}
