import type { WebSocket } from '@fastify/websocket'
import { isStrataError } from '@strata/protocol'
import type { Logger } from 'pino'
import type { Principal } from '../accounts/roles.js'
import { CloudError } from '../errors.js'
import { decodeClientFrame, errorFrame, type ClientFrame } from './live-frames.js'
import type { HubSubscription, LiveHub } from './live-hub.js'
import { readableTopics, subscriptionOf } from './live-subscription.js'
import { SendQueue, type SendQueueOptions } from './send-queue.js'
import { liveCloseCodes } from './live-close-codes.js'
import { TokenBuckets } from '../broker-access/token-bucket.js'

/** What a connection needs of its feed. */
export interface LiveConnectionContext {
  readonly hub: LiveHub
  readonly log: Logger
  readonly clock: () => number
  readonly authTimeoutMs: number
  readonly maxSubscriptions: number
  readonly maxFramesPerSecond: number
  readonly sendQueue: Partial<SendQueueOptions>
  authenticate(token: string): Promise<Principal>
  /** Counts the connection against its token's limit; false when the token is at its limit. */
  admit(connection: LiveConnection, token: string): boolean
  /** The connection ended: forget it. */
  release(connection: LiveConnection): void
  framesSent(n: number): void
  framesDropped(n: number): void
}

type State = 'awaiting-auth' | 'authenticating' | 'ready' | 'closed'

/** Frames a client may send while its token is being checked. */
const maxFramesBeforeReady = 64

/**
 * One live-feed WebSocket: authentication (the upgrade's bearer token, or a first `auth` frame
 * within `authTimeoutMs`), the client's subscriptions in the hub, its bounded send queue,
 * keep-alive, and the periodic re-check of its token.
 */
export class LiveConnection {
  readonly #socket: WebSocket
  readonly #ctx: LiveConnectionContext
  readonly #log: Logger
  readonly #queue: SendQueue
  readonly #subscriptions = new Map<string, HubSubscription>()
  readonly #early: string[] = []
  #state: State = 'awaiting-auth'
  #token: string | undefined
  #principal: Principal | undefined
  #authTimer: NodeJS.Timeout | undefined
  #alive = true
  /** Inbound frames per second, with bursts of twice that. */
  readonly #rate: TokenBuckets

  constructor(socket: WebSocket, ctx: LiveConnectionContext, log: Logger) {
    this.#socket = socket
    this.#ctx = ctx
    this.#log = log
    this.#rate = new TokenBuckets(ctx.maxFramesPerSecond, ctx.maxFramesPerSecond * 2, ctx.clock)
    this.#queue = new SendQueue({ send: (data, done) => socket.send(data, done) }, ctx.sendQueue, {
      onSent: (n) => ctx.framesSent(n),
      onDropped: (n) => ctx.framesDropped(n),
    })
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary))
    socket.on('pong', () => (this.#alive = true))
    socket.on('close', () => this.#cleanup())
  }

  /** Starts: authenticates with the upgrade's token, or waits for an `auth` frame. */
  start(headerToken: string | undefined): void {
    if (headerToken !== undefined) {
      this.#authenticate(headerToken)
      return
    }
    this.#authTimer = setTimeout(() => {
      if (this.#state === 'awaiting-auth')
        this.#refuse(
          new CloudError(
            'CLOUD_UNAUTHENTICATED',
            `no auth frame within ${String(this.#ctx.authTimeoutMs / 1000)} s`,
          ),
        )
    }, this.#ctx.authTimeoutMs)
    this.#authTimer.unref()
  }

  /** Keep-alive: ends a connection that did not answer the previous ping, then pings. */
  heartbeat(): void {
    if (this.#state === 'closed') return
    if (!this.#alive) {
      this.#log.debug('live connection did not answer a ping')
      this.#socket.terminate()
      this.#cleanup()
      return
    }
    this.#alive = false
    this.#socket.ping()
  }

  /** Checks the token again: a revoked or expired one (or a disabled user) ends the connection. */
  async recheck(): Promise<void> {
    const token = this.#token
    const before = this.#principal
    if (this.#state !== 'ready' || token === undefined || before === undefined) return
    try {
      const now = await this.#ctx.authenticate(token)
      if (now.tenantId !== before.tenantId || now.role !== before.role)
        throw new CloudError('CLOUD_UNAUTHENTICATED', 'the role or tenant of the token changed')
    } catch (err) {
      // Someone else's wrong guesses locked the token id for a minute: not the holder's fault.
      if (isStrataError(err) && err.code === 'CLOUD_RATE_LIMITED') return
      this.#refuse(err)
    }
  }

  /** Sends an error frame, if there is time, and closes with `code`. */
  close(code: number, reason: string): void {
    if (this.#state === 'closed') return
    this.#cleanup()
    // A reason is at most 123 bytes.
    this.#socket.close(code, Buffer.from(reason).subarray(0, 123).toString())
  }

  #onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.#alive = true
    if (this.#state === 'closed') return
    if (!this.#rate.take('')) {
      this.close(
        liveCloseCodes.policyViolation,
        `over ${String(this.#ctx.maxFramesPerSecond)} frames per second`,
      )
      return
    }
    if (isBinary) {
      const err = new CloudError('CLOUD_INVALID', 'binary frames are not accepted', {
        hint: 'Send JSON in text frames.',
      })
      if (this.#state === 'awaiting-auth') this.#refuse(err)
      else this.#send(errorFrame(err))
      return
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Buffer.from(data).toString('utf8')
    if (this.#state === 'ready') this.#handle(text)
    else if (this.#state === 'authenticating') {
      if (this.#early.length >= maxFramesBeforeReady)
        this.close(liveCloseCodes.policyViolation, 'too many frames before authentication')
      else this.#early.push(text)
    } else this.#onFirstFrame(text)
  }

  #onFirstFrame(text: string): void {
    let frame: ClientFrame
    try {
      frame = decodeClientFrame(text)
    } catch (err) {
      this.#refuse(err)
      return
    }
    if (frame.type !== 'auth') {
      this.#refuse(
        new CloudError('CLOUD_UNAUTHENTICATED', 'the first frame must be an auth frame', {
          hint: 'Send {"type":"auth","token":"…"} first, or the token as Authorization: Bearer on the upgrade.',
        }),
      )
      return
    }
    this.#authenticate(frame.token)
  }

  #authenticate(token: string): void {
    clearTimeout(this.#authTimer)
    this.#state = 'authenticating'
    this.#ctx.authenticate(token).then(
      (principal) => {
        if (this.#state !== 'authenticating') return
        if (!this.#ctx.admit(this, token)) {
          this.#refuse(
            new CloudError(
              'CLOUD_LIVE_LIMIT',
              'this token holds as many live connections as it may',
              {
                hint: 'Close another live connection of this token first.',
              },
            ),
            liveCloseCodes.tooManyForToken,
          )
          return
        }
        this.#token = token
        this.#principal = principal
        this.#state = 'ready'
        this.#log.debug({ actor: principal.actor }, 'live connection authenticated')
        this.#send(
          JSON.stringify({
            type: 'ready',
            tenantId: principal.tenantId,
            role: principal.role,
            topics: readableTopics(principal),
          }),
        )
        for (const early of this.#early.splice(0)) this.#handle(early)
      },
      (err: unknown) => {
        if (this.#state === 'authenticating') this.#refuse(err)
      },
    )
  }

  #handle(text: string): void {
    try {
      const frame = decodeClientFrame(text)
      switch (frame.type) {
        case 'ping':
          this.#send('{"type":"pong"}')
          return
        case 'auth':
          throw new CloudError('CLOUD_INVALID', 'this connection is already authenticated', {
            hint: 'Open a new connection to use another token.',
          })
        case 'subscribe':
          this.#subscribe(frame)
          return
        case 'unsubscribe': {
          const sub = this.#subscriptions.get(frame.id)
          if (sub === undefined)
            throw new CloudError('CLOUD_NOT_FOUND', `no subscription ${JSON.stringify(frame.id)}`)
          this.#subscriptions.delete(frame.id)
          this.#ctx.hub.remove(sub)
          this.#send(JSON.stringify({ type: 'unsubscribed', id: frame.id }))
          return
        }
      }
    } catch (err) {
      const id = idOf(text)
      if (isStrataError(err)) this.#send(errorFrame(err, id))
      else {
        this.#log.error({ err }, 'live frame failed')
        this.#send(errorFrame({ code: 'CLOUD_INTERNAL', message: 'internal error' }, id))
      }
    }
  }

  #subscribe(frame: Extract<ClientFrame, { type: 'subscribe' }>): void {
    const principal = this.#principal
    if (principal === undefined) return
    const previous = this.#subscriptions.get(frame.id)
    if (previous === undefined && this.#subscriptions.size >= this.#ctx.maxSubscriptions) {
      throw new CloudError(
        'CLOUD_LIVE_LIMIT',
        `a connection has at most ${String(this.#ctx.maxSubscriptions)} subscriptions`,
        { hint: 'Unsubscribe one, or widen a subscription (several topics, more devices).' },
      )
    }
    const sub = subscriptionOf(principal, frame, (data, droppable) =>
      this.#queue.push(data, droppable),
    )
    // The same id again replaces the subscription: a client changes its filter in one step.
    if (previous !== undefined) this.#ctx.hub.remove(previous)
    this.#subscriptions.set(frame.id, sub)
    this.#send(JSON.stringify({ type: 'subscribed', id: frame.id, topics: [...sub.topics] }))
    this.#ctx.hub.add(sub)
  }

  #refuse(err: unknown, code: number = liveCloseCodes.unauthenticated): void {
    const e = isStrataError(err)
      ? err
      : new CloudError('CLOUD_UNAUTHENTICATED', 'authentication failed')
    if (!isStrataError(err)) this.#log.error({ err }, 'live authentication failed')
    this.#send(errorFrame(e))
    this.close(code, e.message)
  }

  #send(frame: string): void {
    this.#queue.push(frame, false)
  }

  #cleanup(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    clearTimeout(this.#authTimer)
    for (const sub of this.#subscriptions.values()) this.#ctx.hub.remove(sub)
    this.#subscriptions.clear()
    this.#early.length = 0
    this.#ctx.release(this)
    // Frames already handed to the socket still go out before the close frame; the rest go.
    this.#queue.close()
  }
}

/** The `id` of a frame that failed, when it has one, so the client can tell which. */
function idOf(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as { id?: unknown }
    return typeof v.id === 'string' && v.id.length <= 64 ? v.id : undefined
  } catch {
    return undefined
  }
}
