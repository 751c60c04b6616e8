import { parseSharedFilter, topicMatches, topicRoot } from '@strata/protocol'
import type { ClientInfo } from '@strata/mqtt'

/** Something the node learnt about a device's subscriptions. */
export type SubscriptionEvent =
  /**
   * A connection began; `filters` are those of the device's namespace that its resumed session
   * already held (empty for a new session).
   */
  | { readonly kind: 'connect'; readonly deviceId: string; readonly filters: readonly string[] }
  /**
   * A SUBSCRIBE after the connection began; `fresh` is false when the resumed session already
   * held the same filter (a client that subscribes again on every connect), so whatever the
   * broker queued for it is delivered anyway.
   */
  | {
      readonly kind: 'subscribe'
      readonly deviceId: string
      readonly filter: string
      readonly fresh: boolean
    }

interface ConnectionState {
  connected: boolean
  /** Filters the broker re-authorised while resuming the session, before `onConnect`. */
  readonly resumed: Set<string>
  readonly filters: Set<string>
}

/**
 * What the node knows of devices' live subscriptions, learnt from the broker's hooks: the broker
 * asks `authorizeSubscribe` for every filter of a SUBSCRIBE and again for every subscription of a
 * resumed session (before `onConnect`), so the two can be told apart. State is per connection
 * (the `ClientInfo` object), so a session taken over by a new connection never mixes with the old.
 * Unsubscribing is not seen: a device that unsubscribes still counts as listening until it leaves.
 */
export class DeviceSubscriptions {
  readonly #states = new WeakMap<ClientInfo, ConnectionState>()
  /** Device id (a filter's namespace) → the live connection that holds filters for it. */
  readonly #holders = new Map<string, ClientInfo>()
  readonly #listeners: ((event: SubscriptionEvent) => void)[] = []

  /** Registers a listener; it runs inside the broker's hooks, so it must not block or throw. */
  on(listener: (event: SubscriptionEvent) => void): void {
    this.#listeners.push(listener)
  }

  /** The broker allowed `filter` for `client` (call from `authorizeSubscribe`). */
  allowed(client: ClientInfo, filter: string): void {
    const state = this.#state(client)
    const owner = ownerOf(filter)
    if (owner === undefined) return
    const seen = state.resumed.has(filter)
    state.filters.add(filter)
    if (!state.connected) {
      state.resumed.add(filter)
      return
    }
    this.#holders.set(owner, client)
    this.#emit({ kind: 'subscribe', deviceId: owner, filter, fresh: !seen })
  }

  /** The connection began (call from `onConnect`). */
  connected(client: ClientInfo, deviceId: string | undefined): void {
    const state = this.#state(client)
    state.connected = true
    const byOwner = new Map<string, string[]>()
    if (deviceId !== undefined) byOwner.set(deviceId, [])
    for (const filter of state.resumed) {
      const owner = ownerOf(filter)
      if (owner !== undefined) byOwner.set(owner, [...(byOwner.get(owner) ?? []), filter])
    }
    for (const [owner, filters] of byOwner) {
      if (filters.length > 0) this.#holders.set(owner, client)
      this.#emit({ kind: 'connect', deviceId: owner, filters })
    }
  }

  /** The connection ended (call from `onDisconnect`). */
  disconnected(client: ClientInfo): void {
    for (const [owner, holder] of this.#holders) if (holder === client) this.#holders.delete(owner)
    this.#states.delete(client)
  }

  /** True while a live connection holds a filter that matches `topic` of the device's namespace. */
  listening(deviceId: string, topic: string): boolean {
    const client = this.#holders.get(deviceId)
    const state = client === undefined ? undefined : this.#states.get(client)
    if (state === undefined) return false
    for (const filter of state.filters) if (topicMatches(innerFilter(filter), topic)) return true
    return false
  }

  #state(client: ClientInfo): ConnectionState {
    let state = this.#states.get(client)
    if (state === undefined) {
      state = { connected: false, resumed: new Set(), filters: new Set() }
      this.#states.set(client, state)
    }
    return state
  }

  #emit(event: SubscriptionEvent): void {
    for (const listener of this.#listeners) listener(event)
  }
}

/** True when `filter` (a `$share/…` one too) matches `topic`. */
export function filterMatches(filter: string, topic: string): boolean {
  return topicMatches(innerFilter(filter), topic)
}

function innerFilter(filter: string): string {
  const shared = parseSharedFilter(filter)
  return shared === undefined || 'error' in shared ? filter : shared.filter
}

/** The device whose namespace a filter lies in; undefined for a wildcard there, or none. */
function ownerOf(filter: string): string | undefined {
  const levels = innerFilter(filter).split('/')
  const [s, v] = topicRoot.split('/')
  if (levels[0] !== s || levels[1] !== v || levels[2] !== 'devices') return undefined
  const owner = levels[3]
  return owner === undefined || owner === '+' || owner === '#' ? undefined : owner
}
