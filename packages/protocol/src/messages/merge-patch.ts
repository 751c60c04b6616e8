/** A JSON object, as twin documents are: property names to JSON values. */
export type JsonObject = { [key: string]: unknown }

/**
 * Applies a JSON merge patch (RFC 7396) and returns the result; neither argument is modified (the
 * result shares nothing with either). The cloud's twins and the device SDK use this one function,
 * so both sides agree on every document.
 * Objects merge key by key, `null` deletes a key, anything else (arrays included) replaces.
 *
 * @example
 * applyMergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 } }) // { a: 1, b: { d: 3, e: 4 } }
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return clone(patch)
  const result: JsonObject = isJsonObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) Reflect.deleteProperty(result, key)
    else
      define(
        result,
        key,
        applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value),
      )
  }
  return result
}

/** Applies a merge patch to an object document; the result is an object again. */
export function mergeDocument(target: JsonObject, patch: JsonObject): JsonObject {
  return applyMergePatch(target, patch) as JsonObject
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone)
  if (isJsonObject(value)) {
    const out: JsonObject = {}
    for (const [key, item] of Object.entries(value)) define(out, key, clone(item))
    return out
  }
  return value
}

/** Sets a key as an own data property, so a `__proto__` key from the wire stays a plain key. */
function define(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}
