import { DeviceError } from '../errors.js'
import {
  imageProblem,
  maxSecurityVersion,
  otherSlot,
  type BootControl,
  type Slot,
  type SlotImage,
  type SlotName,
  type SlotState,
} from './boot-control.js'

const slotStates: readonly string[] = ['empty', 'installed', 'pending', 'testing', 'good', 'bad']

function corrupt(field: string, problem: string): DeviceError {
  return new DeviceError('DEVICE_BOOT_CONTROL_CORRUPT', `boot control ${field} ${problem}`, {
    hint: 'Rewrite the record from a known state (createBootControl) or reflash the device.',
    details: { field },
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkKeys(value: Record<string, unknown>, keys: readonly string[], field: string): void {
  for (const key of Object.keys(value))
    if (!keys.includes(key)) throw corrupt(`${field}/${key}`, 'is not a known field')
  for (const key of keys) if (!(key in value)) throw corrupt(`${field}/${key}`, 'is missing')
}

function decodeImage(value: unknown, field: string): SlotImage | null {
  if (value === null) return null
  if (!isRecord(value)) throw corrupt(field, 'is not an object or null')
  checkKeys(value, ['version', 'securityVersion', 'sha256'], field)
  const image = value as unknown as SlotImage
  const problem = imageProblem(image)
  if (problem !== null) throw corrupt(field, `has ${problem}`)
  return { version: image.version, securityVersion: image.securityVersion, sha256: image.sha256 }
}

function decodeSlot(value: unknown, field: string): Slot {
  if (!isRecord(value)) throw corrupt(field, 'is not an object')
  checkKeys(value, ['image', 'state'], field)
  const { state } = value
  if (typeof state !== 'string' || !slotStates.includes(state))
    throw corrupt(`${field}/state`, `is not one of ${slotStates.join(', ')}`)
  const image = decodeImage(value.image, `${field}/image`)
  if ((image === null) !== (state === 'empty'))
    throw corrupt(field, 'must hold an image unless, and only unless, it is empty')
  return { image, state: state as SlotState }
}

function isCount(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max
}

/**
 * Throws DEVICE_BOOT_CONTROL_CORRUPT unless `control` keeps the record's invariants: the active slot
 * holds a good image at or above the floor, only the inactive slot may be on trial, and the boot
 * counter and expiry flag are set only during a trial.
 */
export function checkBootControl(control: BootControl): void {
  const active = control.slots[control.active]
  const trial = control.slots[otherSlot(control.active)]
  if (active.state !== 'good' || active.image === null)
    throw corrupt(`/slots/${control.active}`, 'is the active slot but not good')
  if (active.image.securityVersion < control.securityFloor)
    throw corrupt('/securityFloor', 'is above the security version of the active image')
  const onTrial = trial.state === 'testing'
  if (onTrial !== control.bootCount > 0)
    throw corrupt('/bootCount', 'must be positive during a trial and 0 otherwise')
  if (control.trialExpired && !onTrial)
    throw corrupt('/trialExpired', 'is set but no image is on trial')
}

/**
 * The record as JSON text, keys in a fixed order: what the device writes to its boot-control
 * partition. `decodeBootControl(encodeBootControl(c))` deep-equals `c`.
 *
 * @example
 * const text = encodeBootControl(control)
 */
export function encodeBootControl(control: BootControl): string {
  const slot = (s: Slot): Slot => ({
    image:
      s.image === null
        ? null
        : {
            version: s.image.version,
            securityVersion: s.image.securityVersion,
            sha256: s.image.sha256,
          },
    state: s.state,
  })
  return JSON.stringify({
    format: control.format,
    slots: { A: slot(control.slots.A), B: slot(control.slots.B) },
    active: control.active,
    bootCount: control.bootCount,
    trialExpired: control.trialExpired,
    securityFloor: control.securityFloor,
  })
}

/**
 * Decodes and checks a record written by `encodeBootControl`; throws DEVICE_BOOT_CONTROL_CORRUPT
 * naming the first bad field by its JSON pointer.
 *
 * @example
 * const control = decodeBootControl(readFileSync('boot-control.json', 'utf8'))
 */
export function decodeBootControl(text: string): BootControl {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new DeviceError('DEVICE_BOOT_CONTROL_CORRUPT', 'boot control is not JSON', {
      hint: 'Rewrite the record from a known state (createBootControl) or reflash the device.',
      cause: err,
    })
  }
  if (!isRecord(value)) throw corrupt('', 'is not an object')
  checkKeys(value, ['format', 'slots', 'active', 'bootCount', 'trialExpired', 'securityFloor'], '')
  if (value.format !== 1) throw corrupt('/format', 'is not 1')
  if (!isRecord(value.slots)) throw corrupt('/slots', 'is not an object')
  checkKeys(value.slots, ['A', 'B'], '/slots')
  const { active, bootCount, trialExpired, securityFloor } = value
  if (active !== 'A' && active !== 'B') throw corrupt('/active', 'is not "A" or "B"')
  if (!isCount(bootCount, maxSecurityVersion)) throw corrupt('/bootCount', 'is not a count')
  if (typeof trialExpired !== 'boolean') throw corrupt('/trialExpired', 'is not a boolean')
  if (!isCount(securityFloor, maxSecurityVersion))
    throw corrupt('/securityFloor', 'is not an integer in 0 … 2^32-1')
  const control: BootControl = {
    format: 1,
    slots: { A: decodeSlot(value.slots.A, '/slots/A'), B: decodeSlot(value.slots.B, '/slots/B') },
    active: active satisfies SlotName,
    bootCount,
    trialExpired,
    securityFloor,
  }
  checkBootControl(control)
  return control
}
