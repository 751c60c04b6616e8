import { ProtocolError } from '../errors/protocol-error.js'

/** Limits on topic names and filters, beyond those of MQTT itself. */
export interface TopicLimits {
  /** Longest topic or filter in UTF-8 bytes; MQTT allows 65,535, which no device needs. */
  readonly maxTopicBytes: number
  /** Most levels a topic or filter may have. */
  readonly maxTopicLevels: number
}

export const defaultTopicLimits: TopicLimits = { maxTopicBytes: 512, maxTopicLevels: 16 }

/** The result of checking a topic: either its levels, or why it is refused. */
export type TopicCheck =
  | { readonly ok: true; readonly levels: readonly string[] }
  | { readonly ok: false; readonly reason: string }

/**
 * Checks a topic name (for PUBLISH) or a topic filter (for SUBSCRIBE) against the MQTT rules and
 * our limits, and splits it into levels. It never throws.
 *
 * @example
 * checkTopic('strata/v1/devices/a/telemetry', 'name') // { ok: true, levels: [...] }
 * checkTopic('a/+/b', 'name') // { ok: false, reason: 'a topic name must not contain wildcards' }
 */
export function checkTopic(
  topic: string,
  kind: 'name' | 'filter',
  limits: TopicLimits = defaultTopicLimits,
): TopicCheck {
  // [MQTT-4.7.3-1] topic names and filters are at least one character long.
  if (topic.length === 0) return refuse('the topic is empty')
  // Hot path (every PUBLISH): a UTF-16 unit is at most 3 UTF-8 bytes, so most topics need no count.
  const mayExceed = topic.length * 3 > limits.maxTopicBytes
  if (
    topic.length > limits.maxTopicBytes ||
    (mayExceed && Buffer.byteLength(topic) > limits.maxTopicBytes)
  ) {
    return refuse(`the topic is longer than ${String(limits.maxTopicBytes)} bytes`)
  }
  const bad = findForbiddenCharacter(topic)
  if (bad !== undefined) return refuse(bad)
  const levels = topic.split('/')
  if (levels.length > limits.maxTopicLevels) {
    return refuse(`the topic has more than ${String(limits.maxTopicLevels)} levels`)
  }
  const wildcards = kind === 'name' ? checkNameWildcards(topic) : checkFilterWildcards(levels)
  return wildcards ?? { ok: true, levels }
}

function refuse(reason: string): TopicCheck {
  return { ok: false, reason }
}

/**
 * [MQTT-1.5.4-1] well-formed UTF-8 (no lone surrogates), [MQTT-1.5.4-2] no U+0000; control
 * characters U+0001..U+001F and U+007F..U+009F are allowed by MQTT but "SHOULD NOT" appear
 * (MQTT 5 §1.5.4), and no legitimate device topic holds one, so we refuse them.
 */
function findForbiddenCharacter(topic: string): string | undefined {
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i)
    if (c === 0) return `the topic contains NUL at character ${String(i)}`
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return `the topic contains control character U+${hex4(c)} at character ${String(i)}`
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = topic.charCodeAt(i + 1)
      if (!(next >= 0xdc00 && next <= 0xdfff))
        return `the topic contains a lone surrogate at character ${String(i)}`
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return `the topic contains a lone surrogate at character ${String(i)}`
    }
  }
  return undefined
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0')
}

function checkNameWildcards(topic: string): TopicCheck | undefined {
  // [MQTT-3.3.2-2] the topic name in a PUBLISH must not contain wildcard characters.
  if (topic.includes('+') || topic.includes('#'))
    return refuse('a topic name must not contain wildcards')
  return undefined
}

function checkFilterWildcards(levels: readonly string[]): TopicCheck | undefined {
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? ''
    // [MQTT-4.7.1-1] '#' must be alone in its level and the last level of the filter.
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return refuse("'#' must be a whole level and the last one")
    }
    // [MQTT-4.7.1-2] '+' must occupy an entire level.
    if (level.includes('+') && level !== '+') return refuse("'+' must be a whole level")
  }
  return undefined
}

/** Like {@link checkTopic}, but throws `PROTOCOL_TOPIC_INVALID` with the reason. */
export function parseTopic(
  topic: string,
  kind: 'name' | 'filter',
  limits?: TopicLimits,
): readonly string[] {
  const check = checkTopic(topic, kind, limits)
  if (!check.ok) {
    throw new ProtocolError(
      'PROTOCOL_TOPIC_INVALID',
      `invalid topic ${kind} ${JSON.stringify(topic)}: ${check.reason}`,
    )
  }
  return check.levels
}

/**
 * A parsed `$share/{group}/{filter}` subscription (MQTT 5 §4.8.2), or undefined when the filter
 * is not a shared one. The group name must be non-empty and free of wildcards and `/`.
 */
export function parseSharedFilter(
  filter: string,
): { readonly group: string; readonly filter: string } | { readonly error: string } | undefined {
  if (!filter.startsWith('$share/')) return undefined
  const rest = filter.slice('$share/'.length)
  const slash = rest.indexOf('/')
  const group = slash === -1 ? rest : rest.slice(0, slash)
  // [MQTT-4.8.2-1] a ShareName is at least one character, without '/', '+' or '#'.
  if (group.length === 0 || group.includes('+') || group.includes('#')) {
    return { error: 'a $share group name must be at least one character without wildcards' }
  }
  // [MQTT-4.8.2-2] the ShareName is followed by '/' and a topic filter.
  if (slash === -1 || slash === rest.length - 1)
    return { error: '$share/{group} must be followed by a topic filter' }
  return { group, filter: rest.slice(slash + 1) }
}

/**
 * True when the filter matches the topic name, per MQTT §4.7: `+` matches one level (an empty
 * one too), `#` the parent level and everything below, and a filter starting with a wildcard
 * never matches a topic starting with `$` [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}
