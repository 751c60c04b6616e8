/**
 * A raw TCP test client for byte-level MQTT conformance tests: it sends bytes as given and checks
 * what comes back byte by byte, so a broker bug cannot hide behind a forgiving client library.
 *
 * Expectations are matchers over the bytes received so far and whether the peer has closed; each
 * one consumes exactly the bytes it matched, so the next expectation starts where it ended.
 */
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { formatHex, globMatch, parseHexPattern, toBuffer, type HexPattern } from './hex.js'

/** What a matcher says about the bytes received so far. */
export type MatchResult =
  | { readonly status: 'match'; readonly consumed: number }
  | { readonly status: 'need' }
  | { readonly status: 'mismatch'; readonly why: string }

/** Decides whether the start of `received` (and the closed state) is what was expected. */
export interface Matcher {
  readonly describe: string
  match(received: Buffer, closed: boolean): MatchResult
}

/** Exactly these bytes (`xx` matches any byte). */
export function bytesMatcher(pattern: string | HexPattern): Matcher {
  const p = typeof pattern === 'string' ? parseHexPattern(pattern) : pattern
  if (p.includes('*')) throw new Error('`*` is for packet patterns (expectPacket) only')
  return {
    describe: `bytes ${formatPattern(p)}`,
    match(received, closed) {
      const n = Math.min(received.length, p.length)
      for (let i = 0; i < n; i++) {
        const want = p[i]
        if (want !== null && want !== undefined && received[i] !== want) {
          return { status: 'mismatch', why: `byte ${String(i)} differs` }
        }
      }
      if (received.length >= p.length) return { status: 'match', consumed: p.length }
      return closed
        ? { status: 'mismatch', why: 'closed before all bytes came' }
        : { status: 'need' }
    },
  }
}

/**
 * One whole MQTT packet (fixed header, remaining length, body) whose first bytes are `prefix`:
 * for packets whose tail (properties, reason strings, assigned ids) is implementation defined.
 * A pattern ending in `$` must match the whole packet: `90 xx 00 01 * 8f $` is a SUBACK for id 1
 * with any properties and the single reason code 0x8F.
 */
export function packetMatcher(prefix: string | HexPattern): Matcher {
  const anchored = typeof prefix === 'string' && prefix.trimEnd().endsWith('$')
  const p =
    typeof prefix === 'string' ? parseHexPattern(prefix.trimEnd().replace(/\$$/, '')) : prefix
  return {
    describe:
      p.length === 0 ? 'a packet' : `packet ${formatPattern(p)}${anchored ? ' (whole)' : '…'}`,
    match(received, closed) {
      const size = packetSize(received)
      if (size === 'malformed') return { status: 'mismatch', why: 'malformed remaining length' }
      if (size === undefined || received.length < size) {
        // Fail early on a wrong first byte rather than wait for a whole wrong packet.
        const first = p[0]
        if (received.length > 0 && typeof first === 'number' && received[0] !== first)
          return { status: 'mismatch', why: 'another packet type came' }
        if (!closed) return { status: 'need' }
        const why = received.length === 0 ? 'closed before a packet came' : 'closed inside a packet'
        return { status: 'mismatch', why }
      }
      if (!globMatch(p, received.subarray(0, size), !anchored))
        return { status: 'mismatch', why: 'the packet differs' }
      return { status: 'match', consumed: size }
    },
  }
}

/** The peer closed the connection, with nothing (more) sent before. */
export const closedMatcher: Matcher = {
  describe: 'connection closed',
  match(received, closed) {
    if (received.length > 0) return { status: 'mismatch', why: 'bytes came instead of a close' }
    return closed ? { status: 'match', consumed: 0 } : { status: 'need' }
  },
}

/** A sequence of matchers, matched one after the other. */
export function sequenceMatcher(parts: readonly Matcher[]): Matcher {
  return {
    describe: parts.map((m) => m.describe).join(', then '),
    match(received, closed) {
      let at = 0
      for (const part of parts) {
        const r = part.match(received.subarray(at), closed)
        if (r.status !== 'match') return r
        at += r.consumed
      }
      return { status: 'match', consumed: at }
    },
  }
}

/** The first alternative that matches; `need` while any of them still could. */
export function anyOfMatcher(alternatives: readonly Matcher[]): Matcher {
  return {
    describe: `one of [${alternatives.map((m) => m.describe).join(' | ')}]`,
    match(received, closed) {
      let need = false
      const whys: string[] = []
      for (const alt of alternatives) {
        const r = alt.match(received, closed)
        if (r.status === 'match') return r
        if (r.status === 'need') need = true
        else whys.push(r.why)
      }
      return need ? { status: 'need' } : { status: 'mismatch', why: whys.join('; ') }
    },
  }
}

/** Size of the packet at the start of `buf`, undefined while its header is incomplete. */
export function packetSize(buf: Buffer): number | undefined | 'malformed' {
  let remaining = 0
  let multiplier = 1
  for (let i = 1; i <= 4; i++) {
    if (buf.length <= i) return undefined
    const byte = buf[i] ?? 0
    remaining += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return 1 + i + remaining
    multiplier *= 128
  }
  return 'malformed'
}

function formatPattern(p: HexPattern): string {
  return p
    .map((b) => (b === null ? 'xx' : b === '*' ? '*' : b.toString(16).padStart(2, '0')))
    .join(' ')
}

interface Waiter {
  readonly matcher: Matcher
  readonly resolve: (bytes: Buffer) => void
  readonly reject: (err: Error) => void
}

/** A connection to the broker that records every byte it receives. */
export class RawClient {
  readonly socket: Duplex
  private received: Buffer = Buffer.alloc(0)
  private isClosed = false
  private waiter: Waiter | undefined
  /** Every byte received since the client opened, for failure messages. */
  private readonly history: Buffer[] = []

  private constructor(socket: Duplex) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.history.push(chunk)
      this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk])
      this.check()
    })
    // A reset from the broker is a close, as far as the protocol is concerned.
    socket.on('error', () => undefined)
    socket.on('close', () => {
      this.isClosed = true
      this.check()
    })
  }

  /** Opens a TCP connection to the broker. */
  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = net.connect({ port, host, noDelay: true })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawClient(socket)
  }

  /** Wraps any byte stream (a WebSocket stream, say) as a test client. */
  static fromStream(stream: Duplex): RawClient {
    return new RawClient(stream)
  }

  /** The local TCP port, for a TCP client. */
  get localPort(): number | undefined {
    return this.socket instanceof net.Socket ? this.socket.localPort : undefined
  }

  get closed(): boolean {
    return this.isClosed
  }

  /** Bytes received and not yet consumed by an expectation. */
  get pending(): Buffer {
    return this.received
  }

  /** Writes hex (spaces allowed) or raw bytes. Writing to a closed connection is a no-op. */
  send(data: string | Buffer): void {
    if (this.socket.destroyed || !this.socket.writable) return
    this.socket.write(toBuffer(data))
  }

  /** Waits until `matcher` matches, consuming the bytes it matched; fails after `timeoutMs`. */
  waitFor(matcher: Matcher, timeoutMs = 1000): Promise<Buffer> {
    if (this.waiter !== undefined) throw new Error('one expectation at a time')
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined
        reject(this.failure(`timed out after ${String(timeoutMs)} ms waiting for`, matcher))
      }, timeoutMs)
      this.waiter = {
        matcher,
        resolve: (bytes) => {
          clearTimeout(timer)
          resolve(bytes)
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      }
      this.check()
    })
  }

  /** Reads exactly these bytes (`xx` for any byte), or fails showing what came instead. */
  expect(hex: string, timeoutMs = 1000): Promise<Buffer> {
    return this.waitFor(bytesMatcher(hex), timeoutMs)
  }

  /** Reads one whole packet starting with `prefix`, and returns it. */
  expectPacket(prefix: string, timeoutMs = 1000): Promise<Buffer> {
    return this.waitFor(packetMatcher(prefix), timeoutMs)
  }

  /** Reads whatever whole packet comes next. */
  readPacket(timeoutMs = 1000): Promise<Buffer> {
    return this.waitFor(packetMatcher(''), timeoutMs)
  }

  /** The broker closes the connection without sending anything more. */
  async expectClosed(timeoutMs = 1000): Promise<void> {
    await this.waitFor(closedMatcher, timeoutMs)
  }

  /** Nothing arrives (and the connection stays open) for `ms`. */
  async expectNothing(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms))
    if (this.received.length > 0 || this.isClosed) {
      throw new Error(`expected nothing for ${String(ms)} ms, got ${this.describeState()}`)
    }
  }

  /** Closes abruptly (no DISCONNECT): for the broker, the network failed. */
  destroy(): void {
    this.socket.destroy()
  }

  /** Resolves once the socket is fully closed. */
  async destroyed(): Promise<void> {
    if (this.isClosed) return
    this.socket.destroy()
    await new Promise((resolve) => this.socket.once('close', resolve))
  }

  private check(): void {
    const w = this.waiter
    if (w === undefined) return
    const r = w.matcher.match(this.received, this.isClosed)
    if (r.status === 'need') return
    this.waiter = undefined
    if (r.status === 'mismatch') {
      w.reject(this.failure(`${r.why}: expected`, w.matcher))
      return
    }
    const bytes = this.received.subarray(0, r.consumed)
    this.received = this.received.subarray(r.consumed)
    w.resolve(Buffer.from(bytes))
  }

  private describeState(): string {
    const bytes = this.received.length === 0 ? 'no bytes' : `bytes ${formatHex(this.received)}`
    return `${bytes}${this.isClosed ? ' and the connection closed' : ' (connection open)'}`
  }

  private failure(what: string, matcher: Matcher): Error {
    return new Error(`${what} ${matcher.describe}; got ${this.describeState()}`)
  }
}
