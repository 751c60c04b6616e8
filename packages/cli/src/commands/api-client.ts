import { StrataError, type StrataErrorOptions } from '@strata/protocol'
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CliError } from '../errors.js'

/** Error codes of the verbs that drive a running node over its HTTP API (see docs/errors.md). */
export const nodeClientErrorCodes = {
  CLI_NOT_LOGGED_IN:
    'A verb that talks to a node found no node URL or token: no --url/--token, no STRATA_URL/STRATA_TOKEN, no saved session.',
  CLI_NODE_UNREACHABLE:
    'The node at the URL did not answer: nothing listens there, the name does not resolve, or it timed out.',
  CLI_NODE_REPLY_INVALID:
    'The URL answered with something that is not the Strata HTTP API (not JSON, or an error without a code).',
  CLI_ABORTED: 'A confirmation was declined; nothing was changed.',
} as const

export type NodeClientErrorCode = keyof typeof nodeClientErrorCodes

/** An error of the CLI side of a call to a node: no credentials, no answer, a reply not understood. */
export class NodeClientError extends StrataError {
  declare readonly code: NodeClientErrorCode

  constructor(code: NodeClientErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}

/** An error the node replied with (problem+json): its code, detail and hint, and the HTTP status. */
export class NodeApiError extends StrataError {
  readonly status: number

  constructor(status: number, code: string, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
    this.status = status
  }
}

/** A saved session: `$STRATA_CONFIG_DIR/credentials.json` (default `~/.config/strata/`). */
export interface Credentials {
  readonly url: string
  readonly token: string
  readonly expiresAt: number
  readonly email: string
}

/** `--url` and `--token`, on every verb that talks to a node. */
export interface RemoteFlags {
  readonly url?: string
  readonly token?: string
}

/** A client of one node's HTTP API; each call throws NodeApiError or NodeClientError. */
export interface ApiClient {
  readonly url: string
  get<T>(path: string, query?: Readonly<Record<string, string | number | undefined>>): Promise<T>
  post<T>(path: string, body?: unknown): Promise<T>
  /** A JSON merge patch; `ifMatch` sends `If-Match` (optimistic concurrency). */
  patch<T>(path: string, body: unknown, ifMatch?: string): Promise<T>
  /** A whole replacement; `ifMatch` sends `If-Match` (optimistic concurrency). */
  put<T>(path: string, body: unknown, ifMatch?: string): Promise<T>
  delete<T>(path: string): Promise<T>
}

const requestTimeoutMs = 30_000

/** Where the credentials file lives: `$STRATA_CONFIG_DIR`, else `$XDG_CONFIG_HOME/strata`, else `~/.config/strata`. */
export function configDir(): string {
  const env = process.env
  if (env['STRATA_CONFIG_DIR'] !== undefined && env['STRATA_CONFIG_DIR'] !== '')
    return env['STRATA_CONFIG_DIR']
  const xdg = env['XDG_CONFIG_HOME']
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.config'), 'strata')
}

export function credentialsPath(): string {
  return join(configDir(), 'credentials.json')
}

/** The saved session, or undefined when there is none. */
export async function readCredentials(): Promise<Credentials | undefined> {
  const path = credentialsPath()
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${path}: ${String(cause)}`, { cause })
  }
  const bad = (cause?: unknown) =>
    new CliError('CLI_FILE_UNREADABLE', `${path} is not a Strata credentials file`, {
      hint: 'Delete it (`strata logout`) and run `strata login` again.',
      ...(cause === undefined ? {} : { cause }),
    })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw bad(cause)
  }
  if (typeof value !== 'object' || value === null) throw bad()
  const v = value as Record<string, unknown>
  const { url, token, expiresAt, email } = v
  if (
    typeof url !== 'string' ||
    typeof token !== 'string' ||
    typeof expiresAt !== 'number' ||
    typeof email !== 'string'
  )
    throw bad()
  return { url, token, expiresAt, email }
}

/** Saves the session, readable by its owner only (file 0600 in a 0700 folder). Returns the path. */
export async function saveCredentials(credentials: Credentials): Promise<string> {
  const dir = configDir()
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  const path = credentialsPath()
  const temp = `${path}.${String(process.pid)}.tmp`
  await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 })
  await chmod(temp, 0o600)
  await rename(temp, path)
  return path
}

/** Deletes the saved session; false when there was none. */
export async function deleteCredentials(): Promise<boolean> {
  const saved = await readCredentials().catch(() => undefined)
  await rm(credentialsPath(), { force: true })
  return saved !== undefined
}

/** A node URL as typed (`http://host:8080`, with or without `/api/v1` or a trailing slash). */
export function normalizeUrl(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new CliError('CLI_USAGE', `${url} is not an http(s) URL`, {
      hint: 'Give the node URL `strata up` printed, e.g. --url http://127.0.0.1:8080.',
    })
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}`
}

/** The node URL from --url, else STRATA_URL, else the saved session; undefined when none. */
export function urlOf(flags: RemoteFlags, saved: Credentials | undefined): string | undefined {
  const url = flags.url ?? nonEmpty(process.env['STRATA_URL']) ?? saved?.url
  return url === undefined ? undefined : normalizeUrl(url)
}

/**
 * A client for the node named by --url/--token, else STRATA_URL/STRATA_TOKEN, else the saved
 * session (used only for the URL it was saved for). Throws CLI_NOT_LOGGED_IN when none gives both.
 */
export async function connect(flags: RemoteFlags): Promise<ApiClient> {
  const saved = await readCredentials()
  const url = urlOf(flags, saved)
  const login = `strata login --url ${url ?? 'URL'} --email EMAIL`
  if (url === undefined)
    throw new NodeClientError('CLI_NOT_LOGGED_IN', 'no node to talk to: no URL and no session', {
      hint: `Run \`${login}\`, or pass --url and --token (or set STRATA_URL and STRATA_TOKEN).`,
    })
  const explicit = flags.token ?? nonEmpty(process.env['STRATA_TOKEN'])
  if (explicit !== undefined) return createApiClient(url, explicit)
  if (saved === undefined || normalizeUrl(saved.url) !== url)
    throw new NodeClientError('CLI_NOT_LOGGED_IN', `not logged in to ${url}`, {
      hint: `Run \`${login}\`, or pass --token (or set STRATA_TOKEN) with an API token.`,
    })
  return createApiClient(
    url,
    saved.token,
    () => `Your session for ${url} has ended: run \`${login}\`.`,
  )
}

/**
 * A client of the node at `url`, sending `token` as a bearer token. `expiredHint` replaces the
 * node's hint when it refuses the token (a saved session that ended).
 */
export function createApiClient(
  url: string,
  token?: string,
  expiredHint?: () => string,
): ApiClient {
  const base = normalizeUrl(url)
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<T> => {
    let res: Response
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          accept: 'application/json, application/problem+json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...extraHeaders,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      })
    } catch (cause) {
      throw unreachable(base, cause)
    }
    const text = await res.text()
    if (!res.ok) throw problemOf(res.status, text, `${method} ${path}`, expiredHint)
    if (text === '') return undefined as T
    try {
      return JSON.parse(text) as T
    } catch (cause) {
      throw new NodeClientError(
        'CLI_NODE_REPLY_INVALID',
        `${method} ${base}${path} answered HTTP ${String(res.status)} with a body that is not JSON`,
        { hint: `Check that ${base} is a Strata node (the URL \`strata up\` printed).`, cause },
      )
    }
  }
  return {
    url: base,
    get: (path, query) => call('GET', `${path}${queryString(query)}`),
    post: (path, body) => call('POST', path, body ?? {}),
    patch: (path, body, ifMatch) => call('PATCH', path, body, ifMatchHeader(ifMatch)),
    put: (path, body, ifMatch) => call('PUT', path, body, ifMatchHeader(ifMatch)),
    delete: (path) => call('DELETE', path),
  }
}

function ifMatchHeader(ifMatch: string | undefined): Readonly<Record<string, string>> {
  return ifMatch === undefined ? {} : { 'if-match': ifMatch }
}

/** `/api/v1/devices/${id}` with the id escaped. */
export function pathOf(template: TemplateStringsArray, ...ids: string[]): string {
  return template.reduce((acc, part, i) => {
    const id = ids[i - 1]
    return acc + (id === undefined ? '' : encodeURIComponent(id)) + part
  })
}

function queryString(query?: Readonly<Record<string, string | number | undefined>>): string {
  if (query === undefined) return ''
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v))
  const s = params.toString()
  return s === '' ? '' : `?${s}`
}

function problemOf(
  status: number,
  text: string,
  what: string,
  expiredHint: (() => string) | undefined,
): StrataError {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  const p = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
  const { code, detail, hint, details } = p
  if (typeof code !== 'string' || typeof detail !== 'string')
    return new NodeClientError(
      'CLI_NODE_REPLY_INVALID',
      `${what} failed with HTTP ${String(status)}: ${text.slice(0, 200) || '(no body)'}`,
      { hint: 'Check that the URL is a Strata node (the URL `strata up` printed).' },
    )
  const finalHint =
    code === 'CLOUD_UNAUTHENTICATED' && expiredHint !== undefined
      ? expiredHint()
      : typeof hint === 'string'
        ? hint
        : undefined
  return new NodeApiError(status, code, detail, {
    ...(finalHint === undefined ? {} : { hint: finalHint }),
    details: {
      status,
      ...(typeof details === 'object' && details !== null
        ? (details as Record<string, unknown>)
        : {}),
    },
  })
}

function unreachable(url: string, cause: unknown): NodeClientError {
  // fetch fails with a TypeError whose cause says why: ECONNREFUSED, ENOTFOUND, "bad port"…
  const err = cause as {
    name?: string
    message?: string
    cause?: { code?: string; message?: string }
  }
  const reason =
    err.name === 'TimeoutError'
      ? `no answer in ${String(requestTimeoutMs / 1000)} s`
      : (err.cause?.code ?? err.cause?.message ?? err.message ?? String(cause))
  return new NodeClientError(
    'CLI_NODE_UNREACHABLE',
    `cannot reach the node at ${url} (${reason})`,
    {
      hint: `Is the node running at ${url}? Start one with \`strata up\`, or pass the right --url.`,
      retryable: true,
      cause,
    },
  )
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
