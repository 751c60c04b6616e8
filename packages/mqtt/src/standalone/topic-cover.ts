/**
 * Set relations between MQTT topic filters, for authorising SUBSCRIBE against an ACL. A filter
 * stands for the set of topic names it matches (MQTT §4.7, as `topicMatches` in
 * `@strata/protocol`): `+` is one level (an empty one too), `#` the parent level and everything
 * below, and a filter whose first level is a wildcard matches no topic starting with `$`
 * [MQTT-4.7.2-1]. Both functions take valid filters.
 */

/** True when the first level is a literal starting with `$`, matched only by a literal `$` level. */
function isDollar(levels: readonly string[]): boolean {
  return (levels[0] ?? '').startsWith('$')
}

function isWildcard(level: string | undefined): boolean {
  return level === '+' || level === '#'
}

/**
 * True when every topic matched by `inner` is matched by `outer`, i.e. granting `outer` grants
 * all `inner` can deliver. `sensors/+/temp` covers `sensors/a/temp` but not `sensors/#` or `#`.
 *
 * @example
 * filterCovers('a/#', 'a/+/b') // true
 * filterCovers('a/+/temp', 'a/#') // false: a/x/hum is matched by the second only
 */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/')
  const i = inner.split('/')
  // A `$…` level of `inner` is matched only by the same literal: outer wildcards skip `$` topics.
  if (isDollar(i) && isWildcard(o[0])) return false
  for (let k = 0; k < o.length; k++) {
    const ol = o[k]
    if (ol === '#') return true
    const il = i[k]
    // `inner` goes on to any depth from here; only a `#` here covers that (handled above), or
    // `+/#` when `inner` has no parent topic here: `#` alone (every topic has a first level) or
    // `/#` (the parent '' is no topic name, [MQTT-4.7.3-1]).
    if (il === '#') {
      const noParent = k === 0 || (k === 1 && i[0] === '')
      return noParent && ol === '+' && o.length === k + 2 && o[k + 1] === '#'
    }
    // `inner` ended: its topics have k levels, `outer` wants at least one more.
    if (il === undefined) return false
    if (ol === '+') continue
    // A literal level of `outer` covers only the same literal.
    if (il !== ol) return false
  }
  // `outer` consumed without '#': `inner` must have no further levels.
  return i.length === o.length
}

/**
 * True when some topic is matched by both filters: a `deny` entry that overlaps a subscription
 * could let the subscriber receive a denied topic.
 *
 * @example
 * filtersOverlap('a/+/secret', 'a/b/#') // true: a/b/secret
 * filtersOverlap('a/b', 'a/c/#') // false
 */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/')
  const y = b.split('/')
  // A literal `$…` first level meets a wildcard first level in no topic.
  if ((isDollar(x) && isWildcard(y[0])) || (isDollar(y) && isWildcard(x[0]))) return false
  const n = Math.min(x.length, y.length)
  for (let k = 0; k < n; k++) {
    const xl = x[k]
    const yl = y[k]
    if (xl === '#' || yl === '#') return true
    if (xl !== '+' && yl !== '+' && xl !== yl) return false
  }
  if (x.length === y.length) return true
  // One filter is longer: only a trailing '#' (which also matches its parent) lets it end here,
  // and not on a lone empty level: `/#` matches its parent '' only in theory, as a topic name is
  // at least one character [MQTT-4.7.3-1], so `/#` and `+` share no topic.
  const longer = x.length > y.length ? x : y
  return longer[n] === '#' && !(n === 1 && longer[0] === '')
}
