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
  DEVICE_PROFILE_INVALID:
    'A fleet simulator profile that does not decode or whose fields contradict each other; the message names the field by its JSON pointer.',
  DEVICE_FAULT_INVALID:
    'A simulator fault or fault target that does not decode; the message names the field by its JSON pointer.',
  DEVICE_FLEET_OPTIONS_INVALID:
    'Fleet simulator options that cannot work: a broker URL that is not mqtt(s)://, a bad or duplicate device id, a certificate without TLS, a ramp rate that is not positive.',
  DEVICE_FLEET_CLOSED:
    'A fault injected into, or a start of, a simulated fleet that is closing or closed.',
  DEVICE_CLIENT_OPTIONS_INVALID:
    'A device client or provisioning option that cannot work: a URL that is not mqtt(s)://host:port, a bad device id, missing credentials, a number out of range.',
  DEVICE_CONNECT_REFUSED:
    'The broker refused the CONNECT for a reason retrying cannot fix (bad token or certificate, not authorised, banned, bad client id); the client stops reconnecting.',
  DEVICE_CLIENT_CLOSED:
    'An operation on a device client that is closed, or one still pending when it closed (twin get, flush, a message waiting for its acknowledgement).',
  DEVICE_TIMEOUT: 'A request to the cloud (twin get, flush, provisioning) got no answer in time.',
  DEVICE_MESSAGE_INVALID:
    'Telemetry, a twin patch, an event or a firmware progress report that the protocol would refuse; the message names the field.',
  DEVICE_PUBLISH_REFUSED:
    'The broker acknowledged a twin report, event, command reply or progress report with a refusal reason code (MQTT 5 PUBACK ≥ 0x80).',
  DEVICE_OUTBOX_FULL:
    'Too many twin reports, events or command replies are waiting for a connection (outboxMaxMessages).',
  DEVICE_TWIN_REJECTED: 'The cloud answered a twin request on twin/rejected.',
  DEVICE_COMMAND_UNKNOWN:
    'Sent to the cloud as a command failure: the device has no handler for the command name.',
  DEVICE_COMMAND_FAILED:
    'Sent to the cloud as a command failure: the handler threw an error without a code of its own, or returned a result that is not an object.',
  DEVICE_HANDLER_FAILED:
    'A handler the application registered (twin.onDesired, firmware.onOffer) threw or rejected; reported as a warning.',
  DEVICE_CLOUD_MESSAGE_INVALID:
    'A message from the cloud (twin, command, firmware offer, error report) that does not decode; it is skipped and reported as a warning.',
  DEVICE_SUBSCRIBE_REFUSED:
    'The broker refused one of the subscriptions the SDK makes on connect (SUBACK 0x80/0x87).',
  DEVICE_PROVISIONING_FAILED:
    'Claim-based provisioning or certificate renewal failed: the claim token or CSR was refused, or the reply was an error.',
  DEVICE_IDENTITY_INVALID:
    'A saved device identity that is incomplete or inconsistent (missing file, key that does not match the certificate).',
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
