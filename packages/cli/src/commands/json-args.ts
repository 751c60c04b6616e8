import { InvalidArgumentError } from 'commander'

/** A JSON object given on the command line (`'{"interval": 30}'`); a commander argument parser. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new InvalidArgumentError(`not JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidArgumentError('expected a JSON object, e.g. \'{"interval": 30}\'')
  return value as Record<string, unknown>
}

/**
 * `--set path=value` (repeatable) into a nested object: `config.interval=30` gives
 * `{"config": {"interval": 30}}`. The value is JSON when it parses (`30`, `true`, `null`,
 * `"on"`, `[1,2]`), else the text itself.
 */
export function collectSetting(
  text: string,
  previous: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const eq = text.indexOf('=')
  if (eq <= 0) throw new InvalidArgumentError('expected path=value, e.g. config.interval=30')
  const path = text.slice(0, eq).split('.')
  if (path.some((p) => p === '')) throw new InvalidArgumentError(`empty name in ${text}`)
  const raw = text.slice(eq + 1)
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    value = raw
  }
  const root: Record<string, unknown> = { ...previous }
  let at = root
  for (const name of path.slice(0, -1)) {
    const next = at[name]
    const child: Record<string, unknown> =
      typeof next === 'object' && next !== null && !Array.isArray(next)
        ? { ...(next as Record<string, unknown>) }
        : {}
    Object.defineProperty(at, name, {
      value: child,
      enumerable: true,
      writable: true,
      configurable: true,
    })
    at = child
  }
  Object.defineProperty(at, path[path.length - 1] as string, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
  return root
}
