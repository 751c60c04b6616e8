import { StrataError, type StrataErrorOptions } from '@strata/protocol'

/**
 * Every error code the device package throws, with what it means. `docs/errors.md` lists the
 * same codes; `npm run check:docs` fails when the two disagree.
 */
export const deviceErrorCodes = {
  DEVICE_IMAGE_INVALID:
    'An image to install whose version is not semver, whose security version is not an integer in 0 … 2^32-1, or whose sha256 is not 64 lowercase hex digits.',
  DEVICE_ROLLBACK:
    'An image whose security version is below the floor the device has confirmed (anti-rollback).',
  DEVICE_TRIAL_IN_PROGRESS:
    'An install while a new image is on trial; the trial must be confirmed or reverted first.',
  DEVICE_NOT_RUNNING: 'An operation that needs a booted image was called while the device is off.',
  DEVICE_NOT_TESTING:
    'A confirm or confirm deadline for a running image that is not on trial (already good, or never tried).',
  DEVICE_NO_IMAGE: 'A trial requested for an inactive slot that holds no image that can be tried.',
  DEVICE_NO_BOOTABLE_IMAGE:
    'The bootloader found no slot it may boot (both empty, bad, corrupt or below the floor): the device is bricked.',
  DEVICE_BOOT_CONTROL_CORRUPT:
    'A boot-control record that does not decode or breaks its invariants; the message names the field.',
  DEVICE_OPTIONS_INVALID: 'A bootloader option out of range (maxTrialBoots not an integer ≥ 1).',
} as const

/** One of the device package's error codes. */
export type DeviceErrorCode = keyof typeof deviceErrorCodes

/** An error from the device SDK, the simulator or the simulated bootloader. */
export class DeviceError extends StrataError {
  declare readonly code: DeviceErrorCode

  constructor(code: DeviceErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}
