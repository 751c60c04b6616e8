import { isDeviceId } from '@strata/protocol'
import { IdentityError } from './identity-error.js'

/**
 * A tenant id as the identity module accepts it: 1–64 letters, digits, `.`, `_` or `-`, starting
 * with a letter or digit. It never holds `:`, so `urn:strata:device:<tenantId>:<deviceId>` splits
 * at its first colon after the prefix even though device ids may contain colons.
 */
export const tenantIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** The prefix of the SAN URI that names a device. */
export const deviceUriPrefix = 'urn:strata:device:'

/** The SAN URI that names `deviceId` of `tenantId`. */
export function deviceUri(tenantId: string, deviceId: string): string {
  return `${deviceUriPrefix}${tenantId}:${deviceId}`
}

/** Throws CLOUD_ISSUE_INVALID unless both ids can be put in a device certificate. */
export function checkDeviceName(tenantId: string, deviceId: string): void {
  if (!tenantIdPattern.test(tenantId)) {
    throw new IdentityError(
      'CLOUD_ISSUE_INVALID',
      `tenantId ${JSON.stringify(tenantId)} is invalid`,
      {
        hint: 'Use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit.',
        details: { field: 'tenantId' },
      },
    )
  }
  if (!isDeviceId(deviceId)) {
    throw new IdentityError(
      'CLOUD_ISSUE_INVALID',
      `deviceId ${JSON.stringify(deviceId)} is invalid`,
      {
        hint: 'Use 1–64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit.',
        details: { field: 'deviceId' },
      },
    )
  }
}

/** The tenant and device a SAN URI names, or undefined when it is not a valid Strata device URI. */
export function parseDeviceUri(uri: string): { tenantId: string; deviceId: string } | undefined {
  if (!uri.startsWith(deviceUriPrefix)) return undefined
  const rest = uri.slice(deviceUriPrefix.length)
  const colon = rest.indexOf(':')
  if (colon < 0) return undefined
  const tenantId = rest.slice(0, colon)
  const deviceId = rest.slice(colon + 1)
  if (!tenantIdPattern.test(tenantId) || !isDeviceId(deviceId)) return undefined
  return { tenantId, deviceId }
}
