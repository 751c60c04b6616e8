import { isName } from '../schema/names.js'
import {
  checkTopic,
  defaultTopicLimits,
  parseSharedFilter,
  type TopicLimits,
} from './topic-name.js'
import {
  parseTopicName,
  topicTemplates,
  type ParsedTopic,
  type TopicTemplate,
} from './topic-tree.js'

/**
 * Who is asking, as the transport proved it: a device, a gateway that speaks for itself and its
 * child devices, or a provisioning client that holds a claim token and has no device id yet.
 */
export type TopicIdentity =
  | { readonly kind: 'device'; readonly deviceId: string }
  | {
      readonly kind: 'gateway'
      readonly deviceId: string
      readonly isChild: (deviceId: string) => boolean
    }
  | { readonly kind: 'provisioning'; readonly clientId: string }

/** The answer to "may this identity publish here / subscribe to this?". */
export type TopicDecision =
  | { readonly allowed: true; readonly topic?: ParsedTopic }
  | { readonly allowed: false; readonly reason: string }

const deny = (reason: string): TopicDecision => ({ allowed: false, reason })

/**
 * Decides whether `identity` may publish to `topic`: only to an `up` topic of the tree, in its
 * own namespace (a gateway: also its children's). On success the parsed topic comes back, so the
 * caller routes the message without parsing again.
 *
 * @example
 * authorizePublish({ kind: 'device', deviceId: 'a' }, 'strata/v1/devices/a/telemetry') // allowed
 * authorizePublish({ kind: 'device', deviceId: 'a' }, 'strata/v1/devices/b/telemetry') // denied
 */
export function authorizePublish(
  identity: TopicIdentity,
  topic: string,
  limits: TopicLimits = defaultTopicLimits,
): TopicDecision {
  const check = checkTopic(topic, 'name', limits)
  if (!check.ok) return deny(check.reason)
  if (topic.startsWith('$')) return deny('topics starting with $ are reserved for the server')
  const parsed = parseTopicName(topic)
  if (parsed === undefined) return deny(`${topic} is not a topic of the Strata device protocol v1`)
  if (parsed.direction !== 'up')
    return deny(`${topic} is written by the cloud only; devices subscribe to it`)
  const owner = checkOwner(identity, parsed.namespace, parsed.owner)
  return owner ?? { allowed: true, topic: parsed }
}

/**
 * Decides whether `identity` may subscribe to `filter`. The filter must lie inside one `down`
 * topic of its own namespace: `+` may stand for a `{name}` level, never for the namespace or the
 * device id, and `#` is refused because it would also reach topics the device only writes.
 * `$share/{group}/` prefixes are unwrapped and the inner filter is judged the same way.
 *
 * @example
 * authorizeSubscribe({ kind: 'device', deviceId: 'a' }, 'strata/v1/devices/a/commands/request/+') // allowed
 * authorizeSubscribe({ kind: 'device', deviceId: 'a' }, 'strata/v1/devices/+/twin/desired') // denied
 */
export function authorizeSubscribe(
  identity: TopicIdentity,
  filter: string,
  limits: TopicLimits = defaultTopicLimits,
): TopicDecision {
  const outer = checkTopic(filter, 'filter', limits)
  if (!outer.ok) return deny(outer.reason)
  const shared = parseSharedFilter(filter)
  if (shared !== undefined && 'error' in shared) return deny(shared.error)
  const inner = shared === undefined ? filter : shared.filter
  const check = checkTopic(inner, 'filter', limits)
  if (!check.ok) return deny(check.reason)
  if (inner.startsWith('$')) return deny('topics starting with $ are reserved for the server')
  const [root, version, namespace, owner, ...rest] = check.levels
  if (root !== 'strata' || version !== 'v1') return deny('the filter must start with strata/v1/')
  if (namespace !== 'devices' && namespace !== 'provisioning') {
    return deny('the third level must be devices or provisioning, without wildcards')
  }
  if (owner === undefined || owner === '+' || owner === '#') {
    return deny('the fourth level must be your own device id, without wildcards')
  }
  const denied = checkOwner(identity, namespace, owner)
  if (denied !== undefined) return denied
  if (rest.includes('#')) {
    return deny(
      "'#' would reach topics a device may not read: subscribe to each topic, e.g. .../twin/desired",
    )
  }
  const inside = topicTemplates.some(
    (t) => t.namespace === namespace && t.direction === 'down' && covers(t, rest),
  )
  return inside ? { allowed: true } : deny(`${inner} matches no topic the cloud sends to devices`)
}

/** True when every topic the filter levels can match is an instance of the template. */
function covers(template: TopicTemplate, levels: readonly string[]): boolean {
  if (levels.length !== template.levels.length) return false
  return template.levels.every((want, i) => {
    const got = levels[i] ?? ''
    return want.startsWith('{') ? got === '+' || isName(got) : got === want
  })
}

function checkOwner(
  identity: TopicIdentity,
  namespace: string,
  owner: string,
): TopicDecision | undefined {
  if (identity.kind === 'provisioning') {
    if (namespace === 'provisioning' && owner === identity.clientId) return undefined
    return deny(`a provisioning client may use only strata/v1/provisioning/${identity.clientId}/`)
  }
  if (namespace !== 'devices')
    return deny('provisioning topics are for clients holding a claim token')
  if (owner === identity.deviceId) return undefined
  if (identity.kind === 'gateway' && identity.isChild(owner)) return undefined
  return deny(`device ${identity.deviceId} may not use the namespace of device ${owner}`)
}
