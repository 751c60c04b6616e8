import type { WebSocket } from '@fastify/websocket'
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import type { Principal } from '../accounts/roles.js'
import { CloudError } from '../errors.js'
import { tokenOf } from '../http/authenticate.js'
import type { WithHeaders } from '../http/api-types.js'
import { parseToken } from '../secrets/token-format.js'
import { errorFrame } from './live-frames.js'
import type { LiveHub } from './live-hub.js'
import { LiveConnection, type LiveConnectionContext } from './live-connection.js'
import { liveCloseCodes } from './live-close-codes.js'
import type { SendQueueOptions } from './send-queue.js'

/** Frames from a client over this many bytes close the connection with 1009. */
export const liveMaxFrameBytes = 64 * 1024

export interface LiveFeedOptions {
  /** Live connections on the node at most (default 1,000); more are closed with 1013. */
  readonly maxConnections: number
  /** Live connections per token at most (default 10); more are closed with 4429. */
  readonly maxConnectionsPerToken: number
  /** Subscriptions per connection at most (default 32). */
  readonly maxSubscriptions: number
  /** Time for the first `auth` frame when the upgrade carried no token (default 5 s). */
  readonly authTimeoutMs: number
  /** How often every connection's token is checked again (default 30 s). */
  readonly recheckIntervalMs: number
  /** How often the node pings; a connection that missed the last pong is ended (default 30 s). */
  readonly pingIntervalMs: number
  /** Frames a client may send per second, with bursts of twice that (default 50). */
  readonly maxFramesPerSecond: number
  /** The bounded send queue of each connection. */
  readonly sendQueue: Partial<SendQueueOptions>
}

export const defaultLiveFeedOptions: LiveFeedOptions = {
  maxConnections: 1000,
  maxConnectionsPerToken: 10,
  maxSubscriptions: 32,
  authTimeoutMs: 5000,
  recheckIntervalMs: 30_000,
  pingIntervalMs: 30_000,
  maxFramesPerSecond: 50,
  sendQueue: {},
}

/** What the feed reports to the node's metrics. */
export interface LiveFeedMetrics {
  connections(open: number): void
  framesSent(n: number): void
  framesDropped(n: number): void
}

/** Query parameters that look like a credential: refused, never read. */
const credentialParams = /[?&](?:access_token|token|auth|authorization|bearer)=/i

/**
 * The live feed's WebSocket connections (`GET /api/v1/live`): admits them within the node's and
 * each token's limits, pings them, re-checks their tokens every `recheckIntervalMs`, and closes
 * them all on `close()`. The protocol of one connection is {@link LiveConnection}; the events come
 * from the {@link LiveHub}.
 *
 * @example
 * const feed = new LiveFeed({ hub, authenticate: (t) => accounts.authenticate(t), log })
 * app.get('/api/v1/live', { websocket: true }, (socket, req) => feed.accept(socket, req))
 */
export class LiveFeed {
  readonly #log: Logger
  readonly #options: LiveFeedOptions
  readonly #metrics: LiveFeedMetrics | undefined
  readonly #ctx: LiveConnectionContext
  readonly #connections = new Set<LiveConnection>()
  readonly #byToken = new Map<string, number>()
  readonly #tokenOf = new Map<LiveConnection, string>()
  readonly #timers: NodeJS.Timeout[]
  #closed = false

  constructor(
    deps: {
      hub: LiveHub
      authenticate: (token: string) => Promise<Principal>
      log: Logger
      clock?: () => number
      metrics?: LiveFeedMetrics
    },
    options: Partial<LiveFeedOptions> = {},
  ) {
    this.#log = deps.log.child({ component: 'live' })
    this.#options = { ...defaultLiveFeedOptions, ...options }
    this.#metrics = deps.metrics
    const o = this.#options
    this.#ctx = {
      hub: deps.hub,
      log: this.#log,
      clock: deps.clock ?? Date.now,
      authTimeoutMs: o.authTimeoutMs,
      maxSubscriptions: o.maxSubscriptions,
      maxFramesPerSecond: o.maxFramesPerSecond,
      sendQueue: o.sendQueue,
      authenticate: deps.authenticate,
      admit: (connection, token) => this.#admit(connection, token),
      release: (connection) => this.#release(connection),
      framesSent: (n) => this.#metrics?.framesSent(n),
      framesDropped: (n) => this.#metrics?.framesDropped(n),
    }
    this.#timers = [
      setInterval(() => {
        for (const c of this.#connections) c.heartbeat()
      }, o.pingIntervalMs),
      setInterval(() => this.#recheckAll(), o.recheckIntervalMs),
    ]
    for (const t of this.#timers) t.unref()
  }

  /** Open live connections. */
  get connectionCount(): number {
    return this.#connections.size
  }

  /** Takes an upgraded socket: the route's handler. */
  accept(socket: WebSocket, request: WithHeaders & { readonly url: string }): void {
    const refuse = (err: CloudError, code: number) => {
      socket.send(errorFrame(err))
      socket.close(code, err.message.slice(0, 120))
    }
    if (this.#closed) {
      refuse(
        new CloudError('CLOUD_LIVE_LIMIT', 'the node is shutting down'),
        liveCloseCodes.goingAway,
      )
      return
    }
    if (credentialParams.test(request.url)) {
      // URLs end up in logs and browser history: a token there is refused even when it is good.
      refuse(
        new CloudError('CLOUD_UNAUTHENTICATED', 'tokens in the URL are refused', {
          hint: 'Send Authorization: Bearer on the upgrade, or {"type":"auth","token":"…"} as the first frame; revoke the token you put in the URL.',
        }),
        liveCloseCodes.unauthenticated,
      )
      return
    }
    if (this.#connections.size >= this.#options.maxConnections) {
      refuse(
        new CloudError(
          'CLOUD_LIVE_LIMIT',
          `the node holds ${String(this.#options.maxConnections)} live connections, its limit`,
          { hint: 'Try again later.', retryable: true },
        ),
        liveCloseCodes.tryAgainLater,
      )
      return
    }
    const connection = new LiveConnection(socket, this.#ctx, this.#log)
    this.#connections.add(connection)
    this.#metrics?.connections(this.#connections.size)
    connection.start(tokenOf(request))
  }

  /** Closes every connection (1001) and stops the timers. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    for (const t of this.#timers) clearInterval(t)
    for (const c of [...this.#connections])
      c.close(liveCloseCodes.goingAway, 'the node is shutting down')
    return Promise.resolve()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #admit(connection: LiveConnection, token: string): boolean {
    const key = tokenKey(token)
    const n = this.#byToken.get(key) ?? 0
    if (n >= this.#options.maxConnectionsPerToken) return false
    this.#byToken.set(key, n + 1)
    this.#tokenOf.set(connection, key)
    return true
  }

  #release(connection: LiveConnection): void {
    if (!this.#connections.delete(connection)) return
    this.#metrics?.connections(this.#connections.size)
    const key = this.#tokenOf.get(connection)
    if (key === undefined) return
    this.#tokenOf.delete(connection)
    const n = (this.#byToken.get(key) ?? 1) - 1
    if (n <= 0) this.#byToken.delete(key)
    else this.#byToken.set(key, n)
  }

  #recheckAll(): void {
    for (const c of this.#connections) {
      c.recheck().catch((err: unknown) => this.#log.error({ err }, 'live token re-check failed'))
    }
  }
}

/** A token's id (never the token itself) keys its connection count. */
function tokenKey(token: string): string {
  return parseToken(token)?.id ?? createHash('sha256').update(token).digest('hex')
}
