import type { BrokerMessage } from '../message.js'

/** One topic level; `message` is the retained message of the topic ending here, if any. */
class TopicNode {
  children: Map<string, TopicNode> | undefined = undefined
  message: BrokerMessage | undefined = undefined
}

type MessageVisitor = (message: BrokerMessage) => void

/**
 * The retained messages (MQTT 5 §3.3.1.3), one per topic, found by the filter of a new
 * subscription. Two structures: a Map by topic for `get`, `size`, `values` and literal filters
 * (one lookup), and a trie over topic levels for wildcard filters, so that `a/+/c` walks only
 * the `a` branch and `#` walks the trie once instead of testing every topic against the filter.
 *
 * Topics must be valid topic names (no wildcards), filters valid and without a
 * `$share/{group}/` prefix: whether a shared subscription gets retained messages, and for which
 * inner filter, is the caller's decision.
 *
 * @example
 * const retained = new RetainedIndex()
 * retained.set(message) // message.topic === 'sensors/kitchen/temp'
 * retained.forEachMatch('sensors/+/temp', (m) => {
 *   // deliver m to the new subscriber
 * })
 * retained.delete('sensors/kitchen/temp') // a retained PUBLISH with an empty payload
 */
export class RetainedIndex {
  readonly #byTopic = new Map<string, BrokerMessage>()
  readonly #root = new TopicNode()

  get size(): number {
    return this.#byTopic.size
  }

  /** Replaces the message for `message.topic`. */
  set(message: BrokerMessage): void {
    this.#byTopic.set(message.topic, message)
    let node = this.#root
    for (const level of message.topic.split('/')) {
      const children = (node.children ??= new Map<string, TopicNode>())
      let child = children.get(level)
      if (child === undefined) children.set(level, (child = new TopicNode()))
      node = child
    }
    node.message = message
  }

  /** Returns true when a message was removed. Prunes the trie branch it leaves empty. */
  delete(topic: string): boolean {
    if (!this.#byTopic.delete(topic)) return false
    const levels = topic.split('/')
    const path = [this.#root]
    for (const level of levels) {
      const child = path[path.length - 1]?.children?.get(level)
      // Unreachable while the Map and the trie agree; stop rather than throw mid-delete.
      if (child === undefined) return true
      path.push(child)
    }
    const leaf = path[levels.length]
    if (leaf !== undefined) leaf.message = undefined
    prune(path, levels)
    return true
  }

  get(topic: string): BrokerMessage | undefined {
    return this.#byTopic.get(topic)
  }

  /** All messages, for persistence and tests. */
  values(): IterableIterator<BrokerMessage> {
    return this.#byTopic.values()
  }

  /**
   * Visits every retained message whose topic matches the (non-shared) filter, with the rules of
   * §4.7: topics starting with `$` are not matched by a filter starting with a wildcard
   * [MQTT-4.7.2-1].
   */
  forEachMatch(filter: string, visit: MessageVisitor): void {
    if (!hasWildcard(filter)) {
      const message = this.#byTopic.get(filter)
      if (message !== undefined) visit(message)
      return
    }
    matchFrom(this.#root, filter.split('/'), 0, visit)
  }
}

function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#')
}

function prune(path: readonly TopicNode[], levels: readonly string[]): void {
  for (let i = levels.length; i > 0; i--) {
    const node = path[i]
    const parent = path[i - 1]
    const level = levels[i - 1]
    if (node === undefined || parent === undefined || level === undefined) return
    if (node.message !== undefined || node.children !== undefined) return
    parent.children?.delete(level)
    if (parent.children?.size === 0) parent.children = undefined
  }
}

/** True for the root's `$...` children, which a leading `+` or `#` skips [MQTT-4.7.2-1]. */
function isHiddenFrom(depth: number, level: string): boolean {
  return depth === 0 && level.charCodeAt(0) === 0x24 /* $ */
}

/** Matches `levels[depth..]` of the filter below `node`, which stands for `depth` topic levels. */
function matchFrom(
  node: TopicNode,
  levels: readonly string[],
  depth: number,
  visit: MessageVisitor,
): void {
  if (depth === levels.length) {
    if (node.message !== undefined) visit(node.message)
    return
  }
  const level = levels[depth] ?? ''
  if (level === '#') {
    // MQTT 5 §4.7.1.2: `a/#` matches `a` itself and everything below it.
    if (node.message !== undefined) visit(node.message)
    visitChildren(node, depth, visit)
  } else if (level === '+') {
    // MQTT 5 §4.7.1.3: `+` matches any one level, an empty one too.
    if (node.children === undefined) return
    for (const [key, child] of node.children) {
      if (!isHiddenFrom(depth, key)) matchFrom(child, levels, depth + 1, visit)
    }
  } else {
    const child = node.children?.get(level)
    if (child !== undefined) matchFrom(child, levels, depth + 1, visit)
  }
}

/** Visits the whole subtree below `node` (not `node` itself), for `#`. */
function visitChildren(node: TopicNode, depth: number, visit: MessageVisitor): void {
  if (node.children === undefined) return
  for (const [key, child] of node.children) {
    if (isHiddenFrom(depth, key)) continue
    if (child.message !== undefined) visit(child.message)
    visitChildren(child, depth + 1, visit)
  }
}
