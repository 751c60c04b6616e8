import Type from 'typebox'

/**
 * A device id: 1–64 characters of letters, digits and `._:-`, starting with a letter or digit.
 * It is one topic level, so it never holds `/`, `+`, `#`, `$`, NUL or spaces.
 */
export const deviceIdPattern = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'
export const DeviceId = Type.String({ pattern: deviceIdPattern, minLength: 1, maxLength: 64 })
export const deviceIdRegExp = new RegExp(deviceIdPattern)

/** True when `id` is a valid device id. */
export function isDeviceId(id: string): boolean {
  return deviceIdRegExp.test(id)
}

/**
 * A name inside a topic level or a payload key (metric, event type, command name, tag key):
 * 1–128 characters of letters, digits and `._-`, not starting with `_` or `.`, so it never
 * collides with reserved keys such as `__proto__`.
 */
export const namePattern = '^[A-Za-z0-9-][A-Za-z0-9._-]{0,127}$'
export const nameRegExp = new RegExp(namePattern)
export const Name = Type.String({ pattern: namePattern, minLength: 1, maxLength: 128 })

/** True when `name` is a valid metric, event, command or tag name. */
export function isName(name: string): boolean {
  return nameRegExp.test(name)
}
