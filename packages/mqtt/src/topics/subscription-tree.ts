/** The subscribers of one share group on one filter (MQTT 5 §4.8.2). */
interface ShareGroup<S> {
  /** `${group}/${filter}`: unique per (group, filter), since a ShareName holds no `/` [MQTT-4.8.2-2]. */
  readonly key: string
  readonly members: Map<string, S>
}

/**
 * One level of the trie. Every field is set in the constructor so that all nodes share one
 * hidden class and the property loads in {@link matchLevels} stay monomorphic.
 */
class FilterNode<S> {
  /** The (inner, unshared) filter this node stands for: handed to `visit` without building it. */
  readonly filter: string
  /** Literal next levels. `+` and `#` live in their own slots, so matching never looks them up. */
  children: Map<string, FilterNode<S>> | undefined = undefined
  plus: FilterNode<S> | undefined = undefined
  hash: FilterNode<S> | undefined = undefined
  /** clientId → value of the non-shared subscriptions on exactly this filter. */
  subscribers: Map<string, S> | undefined = undefined
  /** group → members of the `$share/{group}/{filter}` subscriptions on exactly this filter. */
  groups: Map<string, ShareGroup<S>> | undefined = undefined

  constructor(filter: string) {
    this.filter = filter
  }

  isEmpty(): boolean {
    return (
      this.subscribers === undefined &&
      this.groups === undefined &&
      this.plus === undefined &&
      this.hash === undefined &&
      this.children === undefined
    )
  }
}

type SubscriberVisitor<S> = (clientId: string, value: S, filter: string) => void
type GroupVisitor<S> = (key: string, members: ReadonlyMap<string, S>) => void

/** `$share/{group}/{filter}` split in two; filters arrive validated (§4.8.2), so no error case. */
function splitShared(filter: string): { group: string; inner: string } | undefined {
  if (!filter.startsWith('$share/')) return undefined
  const slash = filter.indexOf('/', '$share/'.length)
  if (slash === -1) return undefined
  return { group: filter.slice('$share/'.length, slash), inner: filter.slice(slash + 1) }
}

/**
 * The subscriptions of all clients, as a trie over topic levels, matched against every published
 * topic: the broker's hot path. Matching splits the topic once and walks only the branches that
 * can match (the literal child, `+` and `#`), so its cost grows with the number of matching
 * filters and the topic's depth, not with the number of subscriptions.
 *
 * Keys are (filter, clientId); filters must already be valid (`checkTopic(filter, 'filter')` and
 * `parseSharedFilter` from `@strata/protocol`). A shared subscription `$share/{group}/{filter}` is
 * stored at the node of `{filter}`, in its group (MQTT 5 §4.8.2).
 *
 * Mutating the tree from a `visit` callback is safe; entries added during a walk may or may not
 * be visited by it. A group's `members` map is live while the group has members; when the last
 * one leaves, the group is dropped and a later member starts a new map.
 *
 * @example
 * const tree = new SubscriptionTree<number>()
 * tree.add('sensors/+/temp', 'c1', 1)
 * tree.add('$share/workers/sensors/#', 'w1', 1)
 * tree.forEachMatch('sensors/kitchen/temp', (clientId, qos, filter) => {
 *   // 'c1', 1, 'sensors/+/temp'
 * })
 * tree.forEachSharedMatch('sensors/kitchen/temp', (key, members) => {
 *   // 'workers/sensors/#', Map { 'w1' => 1 }: pick one member to deliver to
 * })
 */
export class SubscriptionTree<S> {
  readonly #root = new FilterNode<S>('')
  #size = 0
  /** Shared entries among them: with none, {@link forEachSharedMatch} skips its walk. */
  #sharedSize = 0

  /** Number of (filter, clientId) entries, shared included. */
  get size(): number {
    return this.#size
  }

  /** Adds or replaces; returns true when (filter, clientId) is new. `filter` may start with $share/{group}/. */
  add(filter: string, clientId: string, value: S): boolean {
    const shared = splitShared(filter)
    const node = this.#findOrCreate(shared === undefined ? filter : shared.inner)
    const members =
      shared === undefined
        ? (node.subscribers ??= new Map<string, S>())
        : findOrCreateGroup(node, shared.group).members
    const isNew = !members.has(clientId)
    members.set(clientId, value)
    if (isNew) this.#size++
    if (isNew && shared !== undefined) this.#sharedSize++
    return isNew
  }

  /** Returns true when something was removed. Prunes empty nodes. */
  remove(filter: string, clientId: string): boolean {
    const shared = splitShared(filter)
    const levels = (shared === undefined ? filter : shared.inner).split('/')
    const path = this.#findPath(levels)
    const node = path?.[levels.length]
    if (path === undefined || node === undefined) return false
    const removed =
      shared === undefined
        ? removeSubscriber(node, clientId)
        : removeGroupMember(node, shared.group, clientId)
    if (!removed) return false
    this.#size--
    if (shared !== undefined) this.#sharedSize--
    prune(path, levels)
    return true
  }

  /** Visits every non-shared subscription whose filter matches `topic`; a client with several overlapping filters is visited once per filter. */
  forEachMatch(topic: string, visit: SubscriberVisitor<S>): void {
    matchLevels(this.#root, topic.split('/'), visit, visitSubscribers)
  }

  /** Visits every share group with a filter matching `topic`: key is `${group}/${filter}` (unique per group+filter), members is that group's clientId → value map (live view; do not copy per call). */
  forEachSharedMatch(topic: string, visit: GroupVisitor<S>): void {
    if (this.#sharedSize === 0) return
    matchLevels(this.#root, topic.split('/'), visit, visitGroups)
  }

  /** Walks the filter by index, building a node's filter string only when creating it. */
  #findOrCreate(filter: string): FilterNode<S> {
    let node = this.#root
    for (let start = 0; start <= filter.length;) {
      const slash = filter.indexOf('/', start)
      const end = slash === -1 ? filter.length : slash
      node = findOrCreateChild(node, filter, start, end)
      start = end + 1
    }
    return node
  }

  /** The nodes from the root to the filter's node (levels.length + 1 of them), if it exists. */
  #findPath(levels: readonly string[]): FilterNode<S>[] | undefined {
    const path = [this.#root]
    let node: FilterNode<S> | undefined = this.#root
    for (const level of levels) {
      node = childOf(node, level)
      if (node === undefined) return undefined
      path.push(node)
    }
    return path
  }
}

/** The child of `node` for `filter[start..end)`; a new node stands for `filter[0..end)`. */
function findOrCreateChild<S>(
  node: FilterNode<S>,
  filter: string,
  start: number,
  end: number,
): FilterNode<S> {
  const level = filter.slice(start, end)
  if (level === '+') return (node.plus ??= new FilterNode(filter.slice(0, end)))
  if (level === '#') return (node.hash ??= new FilterNode(filter.slice(0, end)))
  const children = (node.children ??= new Map<string, FilterNode<S>>())
  let child = children.get(level)
  if (child === undefined) children.set(level, (child = new FilterNode(filter.slice(0, end))))
  return child
}

function childOf<S>(node: FilterNode<S>, level: string): FilterNode<S> | undefined {
  if (level === '+') return node.plus
  if (level === '#') return node.hash
  return node.children?.get(level)
}

function findOrCreateGroup<S>(node: FilterNode<S>, group: string): ShareGroup<S> {
  const groups = (node.groups ??= new Map<string, ShareGroup<S>>())
  let found = groups.get(group)
  if (found === undefined) {
    found = { key: `${group}/${node.filter}`, members: new Map() }
    groups.set(group, found)
  }
  return found
}

function removeSubscriber<S>(node: FilterNode<S>, clientId: string): boolean {
  if (node.subscribers?.delete(clientId) !== true) return false
  if (node.subscribers.size === 0) node.subscribers = undefined
  return true
}

function removeGroupMember<S>(node: FilterNode<S>, group: string, clientId: string): boolean {
  const found = node.groups?.get(group)
  if (found?.members.delete(clientId) !== true) return false
  // An emptied group goes: a live `members` view handed out before now stays empty for good.
  if (found.members.size === 0) node.groups?.delete(group)
  if (node.groups?.size === 0) node.groups = undefined
  return true
}

/** Detaches empty nodes bottom-up, so that unsubscribed branches cost no memory and no walk. */
function prune<S>(path: readonly FilterNode<S>[], levels: readonly string[]): void {
  for (let i = levels.length; i > 0; i--) {
    const node = path[i]
    const parent = path[i - 1]
    const level = levels[i - 1]
    if (node === undefined || parent === undefined || level === undefined || !node.isEmpty()) return
    if (level === '+') parent.plus = undefined
    else if (level === '#') parent.hash = undefined
    else {
      parent.children?.delete(level)
      if (parent.children?.size === 0) parent.children = undefined
    }
  }
}

/** What to do with a matching node; a plain function, so the walk allocates no closure. */
type Emit<S, V> = (node: FilterNode<S>, visit: V) => void

function visitSubscribers<S>(node: FilterNode<S>, visit: SubscriberVisitor<S>): void {
  if (node.subscribers === undefined) return
  for (const [clientId, value] of node.subscribers) visit(clientId, value, node.filter)
}

function visitGroups<S>(node: FilterNode<S>, visit: GroupVisitor<S>): void {
  if (node.groups === undefined) return
  for (const group of node.groups.values()) visit(group.key, group.members)
}

/**
 * Starts the walk at the root, where [MQTT-4.7.2-1] applies: a filter whose first level is a
 * wildcard does not match a topic starting with `$` (`#` does not see `$SYS/...`).
 */
function matchLevels<S, V>(
  root: FilterNode<S>,
  levels: readonly string[],
  visit: V,
  emit: Emit<S, V>,
): void {
  const first = levels[0] ?? ''
  if (first.charCodeAt(0) === 0x24 /* $ */) {
    const child = root.children?.get(first)
    if (child !== undefined) matchFrom(child, levels, 1, visit, emit)
    return
  }
  matchFrom(root, levels, 0, visit, emit)
}

/** Matches `levels[depth..]` below `node`, which stands for a filter of `depth` levels. */
function matchFrom<S, V>(
  node: FilterNode<S>,
  levels: readonly string[],
  depth: number,
  visit: V,
  emit: Emit<S, V>,
): void {
  // MQTT 5 §4.7.1.2: `#` matches the parent level and any number of child levels: here both
  // `x/#` for topic `x` (depth === length) and `x/#` for `x/y/...`. A node is reached by one
  // path only, so every filter is emitted at most once per topic.
  if (node.hash !== undefined) emit(node.hash, visit)
  if (depth === levels.length) {
    emit(node, visit)
    return
  }
  const level = levels[depth] ?? ''
  const child = node.children?.get(level)
  if (child !== undefined) matchFrom(child, levels, depth + 1, visit, emit)
  // MQTT 5 §4.7.1.3: `+` matches exactly one level, an empty one too (`a/+` matches `a/`).
  if (node.plus !== undefined) matchFrom(node.plus, levels, depth + 1, visit, emit)
}
