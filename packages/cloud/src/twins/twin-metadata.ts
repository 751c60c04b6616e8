import { isJsonObject, type JsonObject } from '@strata/protocol'

/**
 * The deepest nesting of objects and arrays in a value (a scalar is 0, `{}` is 1), counting no
 * further than `stopAt` so that a hostile document cannot make the walk expensive.
 */
export function depthOf(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'object' || value === null) return 0
  if (stopAt <= 1) return 1
  let deepest = 0
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, depthOf(child, stopAt - 1))
    if (deepest >= stopAt) break
  }
  return deepest + 1
}

/** JSON pointer (RFC 6901) of a path of property names. */
export function pointerOf(path: readonly string[]): string {
  return path.map((p) => `/${p.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')
}

/**
 * Per-property last-updated times after a merge patch: a flat map from the JSON pointer of each
 * leaf the twin holds to when it last changed. Leaves the patch sets get `now`; properties it
 * deletes or replaces lose their entries (and their children's).
 *
 * @example
 * touchMetadata({ '/a': 1 }, { a: null, b: { c: 2 } }, 5) // { '/b/c': 5 }
 */
export function touchMetadata(
  metadata: Readonly<Record<string, number>>,
  patch: JsonObject,
  now: number,
): Record<string, number> {
  const out = new Map(Object.entries(metadata))
  const dropUnder = (pointer: string, keepSelf: boolean) => {
    for (const key of [...out.keys()]) {
      if ((!keepSelf && key === pointer) || key.startsWith(`${pointer}/`)) out.delete(key)
    }
  }
  const hasUnder = (pointer: string) => [...out.keys()].some((k) => k.startsWith(`${pointer}/`))
  const walk = (p: JsonObject, path: string[]) => {
    for (const [key, value] of Object.entries(p)) {
      const at = [...path, key]
      const pointer = pointerOf(at)
      if (value === null) {
        dropUnder(pointer, false)
      } else if (isJsonObject(value)) {
        out.delete(pointer) // an object replaces a scalar that was there; its leaves get times
        walk(value, at)
        if (Object.keys(value).length === 0 && !hasUnder(pointer)) out.set(pointer, now)
      } else {
        dropUnder(pointer, true)
        out.set(pointer, now)
      }
    }
  }
  walk(patch, [])
  return Object.fromEntries(out)
}
