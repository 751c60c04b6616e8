import type { JsonObject, RuleViolation } from '../../api/types.js'
import type { ApiError } from '../../errors.js'

/** What "New rule" starts from: a valid rule that raises an alarm (docs/rules.md, "The rule JSON"). */
export const newRuleTemplate = `{
  "name": "pump-overheat",
  "enabled": true,
  "match": { "topicKinds": ["telemetry"], "metrics": ["temp"] },
  "condition": "payload.temp > 80",
  "actions": [
    { "type": "alarm", "name": "overheat", "severity": "critical", "message": "Temperature above 80" }
  ]
}`

/** The editor's text as a JSON object, or why it is not one. */
export function parseObject(
  text: string,
  what: string,
): { ok: true; value: JsonObject } | { ok: false; message: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { ok: false, message: `${what} is not JSON: ${(err as Error).message}` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, message: `${what} must be a JSON object ({ … })` }
  return { ok: true, value: value as JsonObject }
}

/**
 * The `details.violations` of a 400 (JSON pointers into the definition), or one entry for the
 * whole definition when the node named no field.
 */
export function violationsOf(err: ApiError): readonly RuleViolation[] {
  const list = err.details?.['violations']
  if (Array.isArray(list)) {
    const out: RuleViolation[] = []
    for (const v of list as unknown[]) {
      if (typeof v !== 'object' || v === null) continue
      const { path, message } = v as { path?: unknown; message?: unknown }
      if (typeof message === 'string')
        out.push({ path: typeof path === 'string' ? path : '', message })
    }
    if (out.length > 0) return out
  }
  return [{ path: '', message: err.message }]
}

/**
 * Where a JSON pointer's last key is written in the text (to put the cursor there), or undefined:
 * `/actions/0/severity` → the first `"severity"` after the first `"actions"`.
 */
export function offsetOfPointer(text: string, pointer: string): number | undefined {
  let from = 0
  let found: number | undefined
  for (const segment of pointer.split('/').slice(1)) {
    if (/^\d+$/.test(segment)) continue
    const key = `"${segment.replaceAll('~1', '/').replaceAll('~0', '~')}"`
    const at = text.indexOf(key, from)
    if (at < 0) return found
    found = at
    from = at + key.length
  }
  return found
}
