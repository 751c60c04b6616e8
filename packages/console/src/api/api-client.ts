import { ApiError, consoleError } from '../errors.js'

export type Query = Readonly<Record<string, string | number | boolean | undefined>>

export interface RequestOptions {
  readonly query?: Query
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
  readonly contentType?: string
  readonly signal?: AbortSignal
}

export interface ApiResponse<T> {
  readonly status: number
  readonly data: T
  readonly headers: Headers
}

export interface ApiClientDeps {
  /** The session or API token, if any. */
  token(): string | undefined
  /** A 401 on an authenticated call: the session is over (the shell goes back to login). */
  onSessionEnded(err: ApiError): void
}

/**
 * The console's only way to the node: `/api/v1/...` on this origin, a bearer token, JSON in and
 * out, and problem+json errors as {@link ApiError}s with the API's `code`, `detail` and `hint`.
 */
export class ApiClient {
  readonly #deps: ApiClientDeps

  constructor(deps: ApiClientDeps) {
    this.#deps = deps
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, {
      ...(query ? { query } : {}),
      ...(signal ? { signal } : {}),
    }).then((r) => r.data)
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body }).then((r) => r.data)
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body }).then((r) => r.data)
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path).then((r) => r.data)
  }

  async request<T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const token = this.#deps.token()
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`
    if (options.body !== undefined)
      headers['content-type'] = options.contentType ?? 'application/json'
    let res: Response
    try {
      res = await fetch(urlOf(path, options.query), {
        method,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
    } catch (err) {
      if (options.signal?.aborted === true) throw err
      throw consoleError(
        'CONSOLE_API_UNREACHABLE',
        `${method} ${path}: the node did not answer`,
        'Check that the node is running (strata up) and reachable, then retry.',
      )
    }
    const text = await res.text()
    let data: unknown = undefined
    if (text !== '') {
      try {
        data = JSON.parse(text)
      } catch {
        throw consoleError(
          'CONSOLE_BAD_RESPONSE',
          `${method} ${path}: HTTP ${res.status} with a body that is not JSON`,
        )
      }
    }
    if (!res.ok) {
      const err = problemOf(res.status, data, `${method} ${path}`)
      if (res.status === 401 && token !== undefined) this.#deps.onSessionEnded(err)
      throw err
    }
    return { status: res.status, data: data as T, headers: res.headers }
  }
}

function urlOf(path: string, query: Query | undefined): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== '') params.set(k, String(v))
  const qs = params.toString()
  return qs === '' ? path : `${path}?${qs}`
}

function problemOf(status: number, body: unknown, what: string): ApiError {
  const p = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return new ApiError(
    status,
    str(p['code']) ?? `HTTP_${status}`,
    str(p['detail']) ?? str(p['message']) ?? str(p['title']) ?? `${what}: HTTP ${status}`,
    {
      hint: str(p['hint']),
      details:
        typeof p['details'] === 'object' && p['details'] !== null
          ? (p['details'] as Record<string, unknown>)
          : undefined,
    },
  )
}
