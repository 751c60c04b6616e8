import type { Alarm, AlarmHistoryEntry, CommandStatus, PresenceStatus } from './types.js'

export type LiveTopic = 'telemetry' | 'twin' | 'presence' | 'commands' | 'alarms'

export interface LivePoint {
  readonly metric: string
  readonly ts: number
  readonly value: number | boolean | string
  readonly tags?: Readonly<Record<string, string>>
}

/** The event frames of docs/node.md, "Live feed". */
export type LiveEvent =
  | { readonly type: 'telemetry'; readonly deviceId: string; readonly points: readonly LivePoint[] }
  | {
      readonly type: 'twin'
      readonly deviceId: string
      readonly side: 'desired' | 'reported'
      readonly version: number
    }
  | {
      readonly type: 'presence'
      readonly deviceId: string
      readonly status: PresenceStatus
      readonly reason: string
      readonly since: number
    }
  | {
      readonly type: 'command'
      readonly deviceId: string
      readonly id: string
      readonly name: string
      readonly status: CommandStatus
    }
  | {
      readonly type: 'alarm'
      readonly deviceId: string
      /** What happened: the alarm's history entry. */
      readonly event: AlarmHistoryEntry
      /** The alarm as it is now. */
      readonly alarm: Alarm
    }

export interface LiveSubscription {
  readonly topics: readonly LiveTopic[]
  readonly devices?: readonly string[]
  readonly metrics?: readonly string[]
}

export type LiveStatus = 'connecting' | 'live' | 'offline'

interface Entry {
  readonly spec: LiveSubscription
  readonly listener: (event: LiveEvent) => void
}

const maxBackoffMs = 15_000

/**
 * One WebSocket to `/api/v1/live` for the whole console: authenticates with a first `auth` frame
 * (a browser cannot set headers on a WebSocket, and a token never goes in the URL), keeps every
 * page's subscriptions, sends them again after a reconnect (with backoff), and hands each event to
 * the subscription it was for.
 */
export class LiveFeed {
  readonly #token: string
  readonly #entries = new Map<string, Entry>()
  readonly #statusListeners = new Set<(s: LiveStatus) => void>()
  #socket: WebSocket | undefined
  #status: LiveStatus = 'connecting'
  #nextId = 1
  #attempt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #closed = false
  /** The topics the token's role may read, from the `ready` frame. */
  #allowed: readonly string[] = []
  /** Frames the node dropped because this tab read too slowly. */
  dropped = 0

  constructor(token: string) {
    this.#token = token
    this.#connect()
  }

  get status(): LiveStatus {
    return this.#status
  }

  /** Listens to events; returns the function that ends the subscription. */
  subscribe(spec: LiveSubscription, listener: (event: LiveEvent) => void): () => void {
    const id = `s${this.#nextId++}`
    this.#entries.set(id, { spec, listener })
    if (this.#status === 'live') this.#sendSubscribe(id, spec)
    return () => {
      this.#entries.delete(id)
      if (this.#status === 'live') this.#send({ type: 'unsubscribe', id })
    }
  }

  /**
   * Listens to the feed's status, starting with the current one: a listener added after the
   * socket went live (a component's effect runs after its first render) still hears it.
   */
  onStatus(listener: (s: LiveStatus) => void): () => void {
    this.#statusListeners.add(listener)
    listener(this.#status)
    return () => this.#statusListeners.delete(listener)
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#socket?.close(1000, 'logged out')
    this.#setStatus('offline')
  }

  #connect(): void {
    if (this.#closed) return
    this.#setStatus('connecting')
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/live`)
    this.#socket = socket
    socket.addEventListener('open', () =>
      socket.send(JSON.stringify({ type: 'auth', token: this.#token })),
    )
    socket.addEventListener('message', (e: MessageEvent<unknown>) => {
      if (typeof e.data === 'string') this.#onFrame(e.data)
    })
    socket.addEventListener('close', (e) => {
      if (this.#socket !== socket) return
      this.#socket = undefined
      this.#setStatus('offline')
      // 4401: the token is no longer good; the API calls will send the user to the login page.
      if (this.#closed || e.code === 4401) return
      const delay = Math.min(maxBackoffMs, 500 * 2 ** this.#attempt++) * (0.5 + Math.random() / 2)
      this.#timer = setTimeout(() => this.#connect(), delay)
    })
  }

  #onFrame(text: string): void {
    let frame: { type?: unknown; subscription?: unknown; count?: unknown; topics?: unknown }
    try {
      frame = JSON.parse(text) as typeof frame
    } catch {
      return
    }
    if (frame.type === 'ready') {
      this.#attempt = 0
      this.#allowed = Array.isArray(frame.topics) ? (frame.topics as string[]) : []
      this.#setStatus('live')
      for (const [id, entry] of this.#entries) this.#sendSubscribe(id, entry.spec)
      return
    }
    if (frame.type === 'dropped' && typeof frame.count === 'number') {
      this.dropped += frame.count
      return
    }
    if (typeof frame.subscription === 'string')
      this.#entries.get(frame.subscription)?.listener(frame as unknown as LiveEvent)
  }

  #sendSubscribe(id: string, spec: LiveSubscription): void {
    // A topic the role may not read would refuse the whole subscription: ask for the others.
    const topics = spec.topics.filter((t) => this.#allowed.includes(t))
    if (topics.length === 0) return
    this.#send({
      type: 'subscribe',
      id,
      topics,
      ...(spec.devices === undefined ? {} : { devices: spec.devices }),
      ...(spec.metrics === undefined ? {} : { metrics: spec.metrics }),
    })
  }

  #send(frame: unknown): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame))
  }

  #setStatus(status: LiveStatus): void {
    if (this.#status === status) return
    this.#status = status
    for (const l of this.#statusListeners) l(status)
  }
}
