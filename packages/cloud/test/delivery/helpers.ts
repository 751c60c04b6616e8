import { createHmac, timingSafeEqual } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { createServer as createTcpServer, type Socket, connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  openOutbox,
  type Outbox,
  type OutboxDeps,
  type OutboxOptions,
} from '../../src/rules/delivery/index.js'

/** Fast retries, local addresses allowed: what the delivery tests run with. */
export const fastOptions: Partial<OutboxOptions> = {
  allowPrivateNetworks: true,
  backoff: { initialMs: 20, maxMs: 200, factor: 2 },
  connectTimeoutMs: 1_000,
  brokerTimeoutMs: 2_000,
  drainTimeoutMs: 1_000,
}

export const secret = 'test-secret-0123456789abcdef0123456789abcdef'

const cleanups = new WeakMap<TestContext, (() => unknown)[]>()

/**
 * Runs `fn` after the test, in reverse order of registration (node:test runs `t.after` hooks
 * first-in, first-out: an outbox must close before its folder goes, a channel before its
 * connection).
 */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = cleanups.get(t)
  if (stack === undefined) {
    const fns: (() => unknown)[] = []
    stack = fns
    cleanups.set(t, fns)
    t.after(async () => {
      for (let next = fns.pop(); next !== undefined; next = fns.pop()) await next()
    })
  }
  stack.push(fn)
}

/** A temporary folder removed after the test. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'strata-delivery-'))
  defer(t, () => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** An outbox on `path` (a fresh file by default), closed after the test. */
export function outboxFor(
  t: TestContext,
  options: Partial<OutboxOptions> = {},
  deps: Partial<OutboxDeps> = {},
): Outbox {
  const outbox = openOutbox(
    { path: join(tempDir(t), 'delivery.db'), ...deps },
    { ...fastOptions, ...options },
  )
  defer(t, () => outbox.close({ drainTimeoutMs: 0 }))
  return outbox
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/**
 * Verifies a Strata webhook call exactly as docs/rule-actions.md tells receivers to (the same
 * code, with types): HMAC-SHA256 over `"<timestamp>.<raw body>"`, compared in constant time,
 * and a timestamp no more than five minutes away.
 */
export function verifyStrataSignature(
  secret: string,
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  toleranceS = 300,
): boolean {
  const timestamp = String(headers['x-strata-timestamp'] ?? '')
  const signature = String(headers['x-strata-signature'] ?? '')
  if (!/^\d+$/.test(timestamp)) return false
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceS) return false
  const expected = createHmac('sha256', secret)
    .update(`${timestamp}.`)
    .update(rawBody)
    .digest('hex')
  return signature.split(',').some((part) => {
    const [version, value] = part.trim().split('=')
    return (
      version === 'v1' &&
      value !== undefined &&
      value.length === expected.length &&
      timingSafeEqual(Buffer.from(value), Buffer.from(expected))
    )
  })
}

export interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

export interface Reply {
  readonly status: number
  readonly headers?: Record<string, string>
  /** Answer only after this long (a slow receiver). */
  readonly delayMs?: number
}

/** A webhook receiver on 127.0.0.1:0 that records every call and answers as `reply` says. */
export async function startReceiver(
  t: TestContext,
  reply: (call: Received, n: number) => Reply = () => ({ status: 204 }),
): Promise<{ url: string; calls: Received[] }> {
  const calls: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const call = { headers: req.headers, body: Buffer.concat(chunks) }
      calls.push(call)
      const answer = reply(call, calls.length)
      const send = (): void => {
        if (res.destroyed) return
        res.writeHead(answer.status, answer.headers).end()
      }
      if (answer.delayMs === undefined) send()
      else setTimeout(send, answer.delayMs).unref()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  defer(t, async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  if (address === null || typeof address !== 'object') throw new Error('no address')
  return { url: `http://127.0.0.1:${String(address.port)}/hook`, calls }
}

/**
 * A TCP proxy on 127.0.0.1:0 in front of `host:port` that can refuse connections (a broker
 * that is down) and cut the ones it carries (a broker that dropped us).
 */
export async function startProxy(
  t: TestContext,
  host: string,
  port: number,
): Promise<{ port: number; setUp(up: boolean): void; cutAll(): void; accepted(): number }> {
  let up = true
  let accepted = 0
  const sockets = new Set<Socket>()
  const server = createTcpServer((client) => {
    accepted++
    if (!up) {
      client.destroy()
      return
    }
    const upstream = tcpConnect({ host, port })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const cutAll = (): void => {
    for (const s of sockets) s.destroy()
  }
  defer(t, async () => {
    cutAll()
    await new Promise((resolve) => server.close(resolve))
  })
  const address = server.address()
  if (address === null || typeof address !== 'object') throw new Error('no address')
  return {
    port: address.port,
    setUp: (value) => {
      up = value
    },
    cutAll,
    accepted: () => accepted,
  }
}
