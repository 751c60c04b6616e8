import { isSemver } from '@strata/protocol'
import { DeviceError } from '../errors.js'

/** The two firmware slots of an A/B device. */
export type SlotName = 'A' | 'B'

/**
 * What the boot-control record says about a slot (docs/formats/boot-control.md):
 * `empty` no image; `installed` written but not requested; `pending` to be tried on the next boot
 * (MCUboot's "test", Mender's "boot once"); `testing` booted on trial, not yet confirmed
 * (ESP-IDF's `ESP_OTA_IMG_PENDING_VERIFY`); `good` confirmed once; `bad` failed its trial or its
 * hash check and is never booted again.
 */
export type SlotState = 'empty' | 'installed' | 'pending' | 'testing' | 'good' | 'bad'

/** The image a slot holds, as the verified manifest described it. */
export interface SlotImage {
  /** Semantic version of the firmware. */
  readonly version: string
  /** Anti-rollback counter of the firmware, 0 … 2³²−1. */
  readonly securityVersion: number
  /** SHA-256 of the image bytes, 64 lowercase hex digits; the bootloader checks it at boot. */
  readonly sha256: string
}

/** One slot of the record: its image (null when empty) and its state. */
export interface Slot {
  readonly image: SlotImage | null
  readonly state: SlotState
}

/**
 * The persisted boot-control record: what a real device keeps in its boot-control partition
 * (U-Boot's environment, MCUboot's image trailers, ESP-IDF's otadata). Every transition replaces it
 * with one atomic write.
 */
export interface BootControl {
  /** Format of the record; this build reads and writes 1. */
  readonly format: 1
  readonly slots: { readonly A: Slot; readonly B: Slot }
  /** The default slot: the last confirmed image, booted whenever no trial is due. */
  readonly active: SlotName
  /** Boots of the trial slot since it was requested (U-Boot's `bootcount`); 0 without a trial. */
  readonly bootCount: number
  /** Set when the trial image missed its confirm deadline: the next boot reverts. */
  readonly trialExpired: boolean
  /** Lowest security version the device may install or boot: that of the last confirmed image. */
  readonly securityFloor: number
}

/** Largest security version, as in the firmware manifest. */
export const maxSecurityVersion = 2 ** 32 - 1

const sha256Pattern = /^[0-9a-f]{64}$/

/** The slot that is not `slot`. */
export function otherSlot(slot: SlotName): SlotName {
  return slot === 'A' ? 'B' : 'A'
}

/** Why `image` is not a valid slot image, or null when it is. */
export function imageProblem(image: SlotImage): string | null {
  if (typeof image.version !== 'string' || !isSemver(image.version))
    return `version ${JSON.stringify(image.version)} is not a semantic version`
  const sv = image.securityVersion
  if (!Number.isInteger(sv) || sv < 0 || sv > maxSecurityVersion)
    return `securityVersion ${String(sv)} is not an integer in 0 … 2^32-1`
  if (typeof image.sha256 !== 'string' || !sha256Pattern.test(image.sha256))
    return 'sha256 is not 64 lowercase hex digits'
  return null
}

/** Throws DEVICE_IMAGE_INVALID unless `image` is a valid slot image. */
export function assertImage(image: SlotImage): void {
  const problem = imageProblem(image)
  if (problem !== null) {
    throw new DeviceError('DEVICE_IMAGE_INVALID', `image ${problem}`, {
      hint: 'Take version, securityVersion and image.sha256 from the verified firmware manifest.',
    })
  }
}

/**
 * The record of a device fresh from the factory: `image` in slot A, confirmed, slot B empty, the
 * anti-rollback floor at the image's security version.
 *
 * @example
 * const control = createBootControl({ version: '1.0.0', securityVersion: 1, sha256: 'ab'.repeat(32) })
 * control.active // 'A'
 */
export function createBootControl(image: SlotImage): BootControl {
  assertImage(image)
  return {
    format: 1,
    slots: { A: { image: { ...image }, state: 'good' }, B: { image: null, state: 'empty' } },
    active: 'A',
    bootCount: 0,
    trialExpired: false,
    securityFloor: image.securityVersion,
  }
}
