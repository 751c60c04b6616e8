import { checkTopic, parseSharedFilter, topicMatches, type TopicLimits } from '@strata/protocol'
import { filterCovers, filtersOverlap } from './topic-cover.js'

/**
 * `topic`/`pattern` access types of a Mosquitto ACL file.
 *
 * @example
 * const access: AclAccess = 'readwrite' // also what a line without an access type means
 */
export type AclAccess = 'read' | 'write' | 'readwrite' | 'deny'

/** One `topic` or `pattern` line. */
export interface AclEntry {
  readonly access: AclAccess
  /** A topic filter; in a pattern, whole levels `%c` and `%u` stand for client id and user name. */
  readonly topic: string
  readonly line: number
}

/** The parsed ACL file: entries for anonymous clients, per user name, and patterns for all. */
export interface AclTable {
  readonly anonymous: readonly AclEntry[]
  readonly users: ReadonlyMap<string, readonly AclEntry[]>
  readonly patterns: readonly AclEntry[]
}

/**
 * Who is asking: the MQTT client id and, when authenticated, the user name.
 *
 * @example
 * const client: AclClient = { clientId: info.clientId, username: info.identity.username }
 */
export interface AclClient {
  readonly clientId: string
  readonly username?: string | undefined
}

/**
 * Answers for one client, from a Mosquitto ACL file. Fail-closed: what no entry grants is refused.
 *
 * @example
 * if (!acl.canPublish({ clientId: 'pump-1' }, 'devices/pump-1/telemetry')) refuse(0x87)
 */
export interface AclRules {
  /** May the client PUBLISH to this topic name (`write`)? */
  canPublish(client: AclClient, topic: string): boolean
  /** May the client SUBSCRIBE to this filter (`read` on every topic it can match)? */
  canSubscribe(client: AclClient, filter: string): boolean
  /** May the client receive a message on this topic name (`read`), for a per-delivery check? */
  canReceive(client: AclClient, topic: string): boolean
}

/** MQTT's own limits, not Strata's device limits: the broker has validated topics already. */
export const mqttLimits: TopicLimits = { maxTopicBytes: 65_535, maxTopicLevels: 65_535 }

interface Grant {
  readonly filter: string
  readonly read: boolean
  readonly write: boolean
}

interface Applicable {
  readonly denies: readonly string[]
  readonly grants: readonly Grant[]
}

/**
 * Builds the rules for an ACL table. Semantics (mosquitto.conf(5) `acl_file`, Mosquitto 2.0):
 * entries for the client's user name (or the anonymous entries when it has none) and all
 * patterns apply; a matching `deny` refuses whatever grants say ("Any deny topics are handled
 * before topics that grant read/write access"), across user entries and patterns alike.
 */
export function createAclRules(table: AclTable): AclRules {
  const applicable = (client: AclClient): Applicable => collect(table, client)
  return {
    canPublish: (client, topic) => checkName(applicable(client), topic, 'write'),
    canReceive: (client, topic) => checkName(applicable(client), topic, 'read'),
    canSubscribe: (client, filter) => checkFilter(applicable(client), filter),
  }
}

function checkName(rules: Applicable, topic: string, need: 'read' | 'write'): boolean {
  if (!checkTopic(topic, 'name', mqttLimits).ok) return false
  if (rules.denies.some((d) => topicMatches(d, topic))) return false
  return rules.grants.some((g) => g[need] && topicMatches(g.filter, topic))
}

/**
 * A filter is granted when one `read` entry covers every topic it can match, and refused when
 * any `deny` entry overlaps it. Mosquitto 2.0 instead accepts any SUBSCRIBE and drops denied
 * messages at delivery; the broker hooks have no per-delivery check, so we decide here.
 */
function checkFilter(rules: Applicable, filter: string): boolean {
  const shared = parseSharedFilter(filter)
  if (shared !== undefined && 'error' in shared) return false
  const inner = shared?.filter ?? filter
  if (!checkTopic(inner, 'filter', mqttLimits).ok) return false
  if (rules.denies.some((d) => filtersOverlap(d, inner))) return false
  return rules.grants.some((g) => g.read && filterCovers(g.filter, inner))
}

function collect(table: AclTable, client: AclClient): Applicable {
  const denies: string[] = []
  const grants: Grant[] = []
  const own =
    client.username === undefined ? table.anonymous : (table.users.get(client.username) ?? [])
  for (const e of own) add(e.access, e.topic)
  for (const p of table.patterns) {
    const s = substitute(p.topic, client)
    // A grant needs a safe substitution; a deny applies in its widest form so it cannot be dodged.
    if (s.kind === 'exact') add(p.access, s.filter)
    else if (s.kind === 'unsafe' && p.access === 'deny') denies.push(s.widened)
  }
  return { denies, grants }

  function add(access: AclAccess, filter: string): void {
    if (access === 'deny') denies.push(filter)
    else grants.push({ filter, read: access !== 'write', write: access !== 'read' })
  }
}

type Substitution =
  | { readonly kind: 'exact'; readonly filter: string }
  | { readonly kind: 'unsafe'; readonly widened: string }
  | { readonly kind: 'skip' }

/**
 * Replaces whole `%c`/`%u` levels. A value with `+`, `#` or `/`, an empty one, or one starting
 * with `$` in the first level is unsafe: substituted, it would widen the pattern (client id
 * `a/#`, `+`) or reach another client's levels (client id `owner/x` into `devices/%c/#` gives
 * `devices/owner/x/#`, inside client `owner`'s tree) or `$SYS`. Mosquitto 1.x, after
 * CVE-2017-7650 (ACL bypass with a `#` or `+` user name or client id, fixed in 1.4.12), denied
 * pattern checks to ids with `+`, `#` or `/` (security_default.c: "Check whether the username or
 * client id contains a +, # or / and if so deny access"); 2.0 checks only `+#`, and 2.0.11 lets
 * client `owner/x` publish to `devices/owner/x/cmd` under `pattern readwrite devices/%c/#`
 * (tried against the Debian package), which we refuse. `%u` without a user name never matches,
 * as in Mosquitto ("If NULL, then any %u patterns will not match").
 */
function substitute(pattern: string, client: AclClient): Substitution {
  const levels = pattern.split('/')
  const out: string[] = []
  for (const [i, level] of levels.entries()) {
    if (level !== '%c' && level !== '%u') {
      out.push(level)
      continue
    }
    const value = level === '%c' ? client.clientId : client.username
    if (value === undefined) return { kind: 'skip' }
    if (!isSafeLevel(value, i)) return { kind: 'unsafe', widened: [...out, '#'].join('/') }
    out.push(value)
  }
  return { kind: 'exact', filter: out.join('/') }
}

function isSafeLevel(value: string, index: number): boolean {
  if (value === '' || /[+#/]/.test(value)) return false
  return !(index === 0 && value.startsWith('$'))
}
