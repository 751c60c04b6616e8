import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { decodeFaultTarget, decodeSimFault, type Fleet } from '@strata/device'
import { CliError } from '../errors.js'

/** `DIR/control.json`: how `strata simulate fault` finds a running simulator (file 0600). */
export interface ControlEndpoint {
  readonly url: string
  readonly token: string
}

const maxBodyBytes = 1 << 20

/**
 * The live control of a running simulation, on 127.0.0.1 behind a bearer token written to
 * `DIR/control.json` (0600): `GET /stats`, `GET /devices/{id}`, `POST /faults`
 * `{"fault": {...}, "target": {...}}`. Closed with the simulation; the file is removed then.
 */
export async function startControl(
  fleet: Fleet,
  dataDir: string,
  port: number,
): Promise<ControlEndpoint & { close(): Promise<void> }> {
  const token = randomBytes(24).toString('base64url')
  const server = createServer((req, res) => {
    handle(fleet, token, req, res).catch((err: unknown) => {
      send(res, 500, { code: 'CLI_SIMULATOR_REFUSED', message: String(err) })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  const url = `http://127.0.0.1:${String(typeof address === 'object' && address !== null ? address.port : port)}`
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, 'control.json')
  await writeFile(path, `${JSON.stringify({ url, token })}\n`, { mode: 0o600 })
  await chmod(path, 0o600)
  let closing: Promise<void> | undefined
  return {
    url,
    token,
    close: () =>
      (closing ??= (async () => {
        await rm(path, { force: true })
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      })()),
  }
}

async function handle(
  fleet: Fleet,
  token: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!authorized(req.headers.authorization, token)) {
    send(res, 401, { code: 'CLI_SIMULATOR_REFUSED', message: 'missing or wrong control token' })
    return
  }
  const url = new URL(req.url ?? '/', 'http://control')
  if (req.method === 'GET' && url.pathname === '/stats') {
    send(res, 200, fleet.stats())
    return
  }
  const device = /^\/devices\/([^/]{1,64})$/.exec(url.pathname)
  if (req.method === 'GET' && device !== null) {
    const view = fleet.device(decodeURIComponent(device[1] ?? ''))
    if (view === undefined)
      send(res, 404, { code: 'CLI_SIMULATOR_REFUSED', message: 'no such device' })
    else send(res, 200, view)
    return
  }
  if (req.method === 'POST' && url.pathname === '/faults') {
    let fault, target
    try {
      const body = JSON.parse(await readBody(req)) as { fault?: unknown; target?: unknown }
      fault = decodeSimFault(body.fault)
      target = body.target === undefined ? undefined : decodeFaultTarget(body.target)
    } catch (err) {
      send(res, 400, {
        code: 'CLI_USAGE',
        message: err instanceof Error ? err.message : String(err),
      })
      return
    }
    const affected = fleet.inject(fault, target)
    send(res, 200, { affected })
    return
  }
  send(res, 404, {
    code: 'CLI_SIMULATOR_REFUSED',
    message: `no ${req.method ?? ''} ${url.pathname}`,
  })
}

function authorized(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '')
  const expected = Buffer.from(`Bearer ${token}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = []
  let size = 0
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length
    if (size > maxBodyBytes) throw new Error(`body over ${String(maxBodyBytes)} bytes`)
    parts.push(part)
  }
  return Buffer.concat(parts).toString('utf8')
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

/** Finds the running simulator of `dataDir` (or the one at `url` with `token`) for a live fault. */
export async function controlOf(
  dataDir: string,
  flags: { controlUrl?: string; controlToken?: string },
): Promise<ControlEndpoint> {
  if (flags.controlUrl !== undefined && flags.controlToken !== undefined)
    return { url: flags.controlUrl, token: flags.controlToken }
  const path = join(dataDir, 'control.json')
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ControlEndpoint
  } catch (cause) {
    throw new CliError(
      'CLI_SIMULATOR_UNREACHABLE',
      `no running simulator found: cannot read ${path}`,
      {
        hint: 'Start one with `strata simulate --devices N` (same --data folder), or pass --control-url and --control-token.',
        cause,
      },
    )
  }
}

/** Sends one request to a running simulator's control; throws with its message on refusal. */
export async function callControl<T>(
  control: ControlEndpoint,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response
  try {
    res = await fetch(`${control.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${control.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    })
  } catch (cause) {
    throw new CliError(
      'CLI_SIMULATOR_UNREACHABLE',
      `the simulator at ${control.url} did not answer`,
      {
        hint: 'Is `strata simulate` still running? Its control goes away when it stops.',
        cause,
      },
    )
  }
  const reply = (await res.json()) as { message?: string }
  if (!res.ok)
    throw new CliError(
      'CLI_SIMULATOR_REFUSED',
      `the simulator refused: ${reply.message ?? res.statusText}`,
    )
  return reply as T
}
