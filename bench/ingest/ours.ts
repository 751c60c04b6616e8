// Ours: a real node (`startNode`, what `strata up` runs) in a child process, set up through its
// HTTP API like a user would: first admin, login, devices and device tokens. Points are read back
// through the same API: `telemetry/latest` for visibility, `telemetry/aggregate` (count) at the end.
import type { Child, ChildSet } from './children.js'
import type { DeviceCredentials } from './devices.js'
import { valuesPerRecord } from './payload.js'
import type { Stack } from './stack.js'

/** Device registrations in flight at once: each token is an argon2id hash on the node. */
const registerConcurrency = 8
const adminEmail = 'bench@example.com'
const adminPassword = 'ingest benchmark password'

type Json = Record<string, unknown>

class Api {
  readonly #baseUrl: string
  readonly #token: string | undefined

  constructor(baseUrl: string, token?: string) {
    this.#baseUrl = baseUrl
    this.#token = token
  }

  async call(method: string, path: string, body?: unknown): Promise<Json> {
    const res = await fetch(`${this.#baseUrl}${path}`, {
      method,
      headers: {
        ...(this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path} → ${String(res.status)} ${text.slice(0, 500)}`)
    return text === '' ? {} : (JSON.parse(text) as Json)
  }
}

/** The rules engine's counters summed over every rule. */
export interface RuleTotals {
  evaluations: number
  matched: number
  errors: number
}

export class StrataStack implements Stack {
  readonly name: string
  readonly mqttUrl: string
  readonly credentials: DeviceCredentials[] = []
  readonly #child: Child
  readonly #children: ChildSet
  #admin: Api | undefined

  private constructor(name: string, child: Child, children: ChildSet, mqttUrl: string) {
    this.name = name
    this.#child = child
    this.#children = children
    this.mqttUrl = mqttUrl
  }

  /** Starts the node child (`--cpu-prof` into `profileDir` if given) and sets it up. */
  static async start(
    children: ChildSet,
    deviceIds: readonly string[],
    options: { name: string; profileDir?: string | undefined },
  ): Promise<StrataStack> {
    const { child, ready } = await children.start('strata node', 'strata-node.ts', {
      nodeFlags:
        options.profileDir === undefined
          ? []
          : ['--cpu-prof', '--cpu-prof-dir', options.profileDir],
    })
    const stack = new StrataStack(options.name, child, children, ready['mqttUrl'] as string)
    const httpUrl = ready['httpUrl'] as string
    const setupToken = ready['setupToken'] as string | null
    if (setupToken === null) throw new Error('the node has no setup token: not a fresh data folder')
    const anonymous = new Api(httpUrl)
    await anonymous.call('POST', '/api/v1/setup', {
      setupToken,
      email: adminEmail,
      password: adminPassword,
    })
    const login = await anonymous.call('POST', '/api/v1/auth/login', {
      email: adminEmail,
      password: adminPassword,
    })
    stack.#admin = new Api(httpUrl, login['token'] as string)
    await stack.#register(deviceIds)
    return stack
  }

  get memoryPids(): readonly number[] {
    return [this.#child.pid]
  }

  get cpuPids(): readonly number[] {
    return [this.#child.pid]
  }

  async #register(ids: readonly string[]): Promise<void> {
    const admin = this.#api()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++] as string
        await admin.call('POST', '/api/v1/devices', { id })
        const created = await admin.call('POST', `/api/v1/devices/${id}/tokens`, {})
        this.credentials.push({ id, password: created['token'] as string })
      }
    }
    await Promise.all(Array.from({ length: registerConcurrency }, worker))
  }

  #api(): Api {
    if (this.#admin === undefined) throw new Error('the node is not set up')
    return this.#admin
  }

  /** Saves rules through the API, as `strata rules create` does. */
  async loadRules(rules: readonly Json[]): Promise<void> {
    for (const rule of rules) await this.#api().call('POST', '/api/v1/rules', rule)
  }

  /** The engine's counters summed over every rule (`GET /api/v1/rules`). */
  async ruleTotals(): Promise<RuleTotals> {
    const body = await this.#api().call('GET', '/api/v1/rules')
    const totals = { evaluations: 0, matched: 0, errors: 0 }
    for (const rule of body['items'] as { stats?: Record<string, number> }[]) {
      totals.evaluations += rule.stats?.['evaluations'] ?? 0
      totals.matched += rule.stats?.['matched'] ?? 0
      totals.errors += rule.stats?.['errors'] ?? 0
    }
    return totals
  }

  async latest(devices: readonly string[]): Promise<Map<string, number>> {
    const body = await this.#api().call(
      'GET',
      `/api/v1/telemetry/latest?device=${encodeURIComponent(devices.join(','))}`,
    )
    const items = body['items'] as { key: { device: string; metric: string }; time: number }[]
    return newestComplete(items.map((i) => [i.key.device, i.key.metric, i.time]))
  }

  async countPoints(fromMs: number, toMs: number): Promise<number> {
    let total = 0
    for (const metric of ['temp', 'hum']) {
      const q = new URLSearchParams({
        metric,
        fn: 'count',
        bucket: '1d',
        groupBy: '',
        from: String(fromMs),
        to: String(toMs),
      })
      const body = await this.#api().call('GET', `/api/v1/telemetry/aggregate?${q.toString()}`)
      for (const g of body['groups'] as { values: { count: (number | null)[] } }[])
        for (const n of g.values.count) total += n ?? 0
    }
    return total
  }

  /** A PUBACK from our node means the points are durable: stored when the last one is acked. */
  storedAt(_expectedPoints: number, lastAckAtMs: number): Promise<number> {
    return Promise.resolve(lastAckAtMs)
  }

  async close(): Promise<void> {
    await this.#children.stopOne(this.#child)
  }
}

/**
 * Per device, the newest time at which every one of its metrics has a point: a record (temp and
 * hum) is visible once both of its values are.
 */
export function newestComplete(
  rows: readonly (readonly [device: string, metric: string, time: number])[],
): Map<string, number> {
  const out = new Map<string, number>()
  const metrics = new Map<string, number>()
  for (const [device, , time] of rows) {
    out.set(device, Math.min(out.get(device) ?? Infinity, time))
    metrics.set(device, (metrics.get(device) ?? 0) + 1)
  }
  for (const [device, n] of metrics) if (n < valuesPerRecord) out.delete(device)
  return out
}
