import type { JsonObject } from '@strata/protocol'
import type { SeriesBatch, Value } from '@strata/tsdb'
import type { Logger } from 'pino'
import type { AlarmChange } from '../alarms/alarm-types.js'
import type { CommandStatusChange } from '../commands/device-commands.js'
import { matchesLabels, type LabelTerm, type Labels } from '../registry/label-query.js'
import type { PresenceChange } from '../registry/presence.js'
import { liveTopics, type LiveEvent, type LivePoint, type LiveTopic } from './live-events.js'

/** A subscriber as the hub matches it: its tenant, topics and filters, and where events go. */
export interface HubSubscription {
  readonly tenantId: string
  readonly topics: ReadonlySet<LiveTopic>
  /** Only these devices (undefined: every device of the tenant). */
  readonly devices: ReadonlySet<string> | undefined
  /** Only devices whose labels satisfy every term (undefined: no label filter). */
  readonly labels: readonly LabelTerm[] | undefined
  /** Telemetry of these metrics only (undefined: every metric). */
  readonly metrics: ReadonlySet<string> | undefined
  /** Called on the publisher's path (ingestion included): must enqueue and return, never throw. */
  deliver(event: LiveEvent): void
}

/** What the hub needs to know of a device: its tenant and labels. */
export interface LiveDeviceInfo {
  readonly tenantId: string
  readonly labels: Labels
}

export interface LiveHubOptions {
  /** How long a device's tenant and labels are remembered (default 1 s): label changes lag this. */
  readonly deviceCacheMs: number
  /** Devices remembered at most (default 10,000). */
  readonly deviceCacheSize: number
  /** Telemetry points per event at most (default 500); a larger write becomes several events. */
  readonly maxPointsPerEvent: number
}

export const defaultLiveHubOptions: LiveHubOptions = {
  deviceCacheMs: 1000,
  deviceCacheSize: 10_000,
  maxPointsPerEvent: 500,
}

type TopicSubscriptions = Map<LiveTopic, Set<HubSubscription>>

/**
 * The in-process event hub of the live feed. Producers (ingestion once points are durable,
 * presence, twins, commands, alarms) publish; subscriptions match by tenant first, then topic,
 * device, labels and metric. Publishing is on the ingest path, so each publish first checks a per-topic
 * counter and returns when nobody listens, before building anything. Publishing never throws: a
 * failing subscriber is logged, and the producer carries on.
 *
 * @example
 * const hub = new LiveHub({ lookup: (id) => registry.lookup(id), clock: Date.now })
 * hub.add({ tenantId: 't1', topics: new Set(['presence']), devices: undefined, labels: undefined,
 *   metrics: undefined, deliver: (e) => console.log(e) })
 * hub.publishPresence(change)
 */
export class LiveHub {
  readonly #lookup: (deviceId: string) => LiveDeviceInfo | undefined
  readonly #clock: () => number
  readonly #log: Logger | undefined
  readonly #options: LiveHubOptions
  readonly #tenants = new Map<string, TopicSubscriptions>()
  /** Subscriptions per topic over all tenants: the hot path's first (and usually last) check. */
  readonly #counts = new Map<LiveTopic, number>(liveTopics.map((t) => [t, 0]))
  readonly #devices = new Map<string, { info: LiveDeviceInfo | undefined; at: number }>()

  constructor(
    deps: {
      lookup: (deviceId: string) => LiveDeviceInfo | undefined
      clock: () => number
      log?: Logger
    },
    options: Partial<LiveHubOptions> = {},
  ) {
    this.#lookup = deps.lookup
    this.#clock = deps.clock
    this.#log = deps.log
    this.#options = { ...defaultLiveHubOptions, ...options }
  }

  /** Starts delivering to a subscription. */
  add(sub: HubSubscription): void {
    let topics = this.#tenants.get(sub.tenantId)
    if (topics === undefined) {
      topics = new Map()
      this.#tenants.set(sub.tenantId, topics)
    }
    for (const topic of sub.topics) {
      let set = topics.get(topic)
      if (set === undefined) {
        set = new Set()
        topics.set(topic, set)
      }
      if (set.has(sub)) continue
      set.add(sub)
      this.#counts.set(topic, (this.#counts.get(topic) ?? 0) + 1)
    }
  }

  /** Stops delivering to a subscription. Idempotent. */
  remove(sub: HubSubscription): void {
    const topics = this.#tenants.get(sub.tenantId)
    if (topics === undefined) return
    for (const topic of sub.topics) {
      const set = topics.get(topic)
      if (set?.delete(sub) !== true) continue
      this.#counts.set(topic, (this.#counts.get(topic) ?? 1) - 1)
      if (set.size === 0) topics.delete(topic)
    }
    if (topics.size === 0) this.#tenants.delete(sub.tenantId)
  }

  /** True when some subscription, in any tenant, listens to the topic. */
  listens(topic: LiveTopic): boolean {
    return (this.#counts.get(topic) ?? 0) > 0
  }

  /** Points that just became durable (the write batcher's `onDurable`). */
  publishTelemetry(batches: readonly SeriesBatch[]): void {
    if (!this.listens('telemetry')) return
    try {
      // tenant → device → its batches; only tenants someone listens to.
      const byDevice = new Map<string, { subs: Set<HubSubscription>; batches: SeriesBatch[] }>()
      for (const batch of batches) {
        const subs = this.#tenants.get(batch.series.tenant)?.get('telemetry')
        if (subs === undefined) continue
        const key = `${batch.series.tenant}\u0000${batch.series.device}`
        const entry = byDevice.get(key)
        if (entry === undefined) byDevice.set(key, { subs, batches: [batch] })
        else entry.batches.push(batch)
      }
      for (const { subs, batches: own } of byDevice.values()) {
        const deviceId = own[0]?.series.device
        if (deviceId === undefined) continue
        for (const sub of subs) {
          if (!this.#matchesDevice(sub, deviceId)) continue
          this.#deliverPoints(sub, deviceId, own)
        }
      }
    } catch (err) {
      this.#log?.error({ err }, 'live telemetry not published')
    }
  }

  /** A twin side changed. */
  publishTwin(
    deviceId: string,
    side: 'desired' | 'reported',
    version: number,
    patch: JsonObject,
  ): void {
    if (!this.listens('twin')) return
    this.#publishDeviceEvent('twin', deviceId, undefined, () => ({
      type: 'twin',
      deviceId,
      side,
      version,
      patch,
    }))
  }

  /** A device's presence changed (the presence tracker's `onChange`). */
  publishPresence(change: PresenceChange): void {
    if (!this.listens('presence')) return
    const c = change.current
    this.#publishDeviceEvent('presence', c.deviceId, undefined, () => ({
      type: 'presence',
      deviceId: c.deviceId,
      status: c.status,
      reason: c.reason,
      since: c.since,
    }))
  }

  /** A command was created or changed status. */
  publishCommand(change: CommandStatusChange): void {
    if (!this.listens('commands')) return
    this.#publishDeviceEvent('commands', change.deviceId, change.tenantId, () => ({
      type: 'command',
      deviceId: change.deviceId,
      id: change.id,
      name: change.name,
      status: change.status,
    }))
  }

  /** An alarm changed (the alarms service's `onChange`). */
  publishAlarm(change: AlarmChange): void {
    if (!this.listens('alarms')) return
    const { tenantId, ...alarm } = change.alarm
    this.#publishDeviceEvent('alarms', alarm.deviceId, tenantId, () => {
      const { alarmId: _, ...event } = change.event
      return { type: 'alarm', deviceId: alarm.deviceId, event, alarm }
    })
  }

  #publishDeviceEvent(
    topic: LiveTopic,
    deviceId: string,
    knownTenant: string | undefined,
    make: () => LiveEvent,
  ): void {
    try {
      const tenantId = knownTenant ?? this.#device(deviceId)?.tenantId
      if (tenantId === undefined) return
      const subs = this.#tenants.get(tenantId)?.get(topic)
      if (subs === undefined) return
      let event: LiveEvent | undefined
      for (const sub of subs) {
        if (!this.#matchesDevice(sub, deviceId)) continue
        event ??= make()
        sub.deliver(event)
      }
    } catch (err) {
      this.#log?.error({ err, topic, deviceId }, 'live event not published')
    }
  }

  #matchesDevice(sub: HubSubscription, deviceId: string): boolean {
    if (sub.devices !== undefined && !sub.devices.has(deviceId)) return false
    if (sub.labels === undefined) return true
    const info = this.#device(deviceId)
    return info?.tenantId === sub.tenantId && matchesLabels(info.labels, sub.labels)
  }

  #deliverPoints(sub: HubSubscription, deviceId: string, batches: readonly SeriesBatch[]): void {
    const max = this.#options.maxPointsPerEvent
    let points: LivePoint[] = []
    for (const b of batches) {
      if (sub.metrics !== undefined && !sub.metrics.has(b.series.metric)) continue
      const tags = b.series.tags
      const hasTags = tags !== undefined && Object.keys(tags).length > 0
      for (let i = 0; i < b.times.length; i++) {
        const value = b.values[i]
        const ts = b.times[i]
        if (value === undefined || ts === undefined) continue
        points.push({
          metric: b.series.metric,
          ts,
          value: jsonValue(value),
          ...(hasTags ? { tags } : {}),
        })
        if (points.length === max) {
          sub.deliver({ type: 'telemetry', deviceId, points })
          points = []
        }
      }
    }
    if (points.length > 0) sub.deliver({ type: 'telemetry', deviceId, points })
  }

  #device(deviceId: string): LiveDeviceInfo | undefined {
    const now = this.#clock()
    const cached = this.#devices.get(deviceId)
    if (cached !== undefined && now - cached.at < this.#options.deviceCacheMs) return cached.info
    const info = this.#lookup(deviceId)
    this.#devices.delete(deviceId)
    if (this.#devices.size >= this.#options.deviceCacheSize) {
      const oldest = this.#devices.keys().next().value
      if (oldest !== undefined) this.#devices.delete(oldest)
    }
    this.#devices.set(deviceId, { info, at: now })
    return info
  }
}

/** int64 values that fit a double travel as numbers, larger ones as decimal strings. */
function jsonValue(v: Value): number | boolean | string {
  if (typeof v !== 'bigint') return v
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v.toString()
}
