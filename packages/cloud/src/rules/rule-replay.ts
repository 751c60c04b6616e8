import type { RuleContext, RuleMessage } from '@strata/analytics'
import { deviceTopics } from '@strata/protocol'
import type { TimeSeriesStore } from '@strata/tsdb'
import type { Principal } from '../accounts/roles.js'
import { CloudError } from '../errors.js'
import type { DeviceRegistry } from '../registry/device-registry.js'
import type { DeviceTwins } from '../twins/device-twins.js'

export interface ReplayWindow {
  readonly device: string
  /** Epoch ms, inclusive. */
  readonly from: number
  /** Epoch ms, exclusive (as the time-series store reads). */
  readonly to: number
  /** Messages at most; the earliest are kept. */
  readonly limit: number
}

export interface RecordedTraffic {
  /** In time order: telemetry records, then twin reports at the same millisecond. */
  readonly messages: RuleMessage[]
  /** More messages were recorded in the window than `limit`. */
  readonly truncated: boolean
  /** The device's labels and attributes, and its twin as it was at `from`. */
  readonly context: RuleContext
}

export interface ReplaySources {
  readonly store: TimeSeriesStore
  readonly registry: DeviceRegistry
  readonly twins: DeviceTwins
}

/** Points read from the store for one replay at most; a busier window is refused. */
export const maxReplayPoints = 1_000_000

/** Twin history entries a replay reads per page. */
const twinPage = 1_000

/**
 * A device's recorded traffic in a window, as the messages the rules saw: its telemetry from the
 * time-series store (points of one timestamp and tag set make one record, kind `telemetry`) and
 * its reported twin changes from the twin history (kind `twin.reported`, the patch as payload).
 * Reads only; the principal must be able to read the device, its telemetry and its twin.
 */
export async function recordedTraffic(
  sources: ReplaySources,
  principal: Principal,
  window: ReplayWindow,
): Promise<RecordedTraffic> {
  const device = sources.registry.get(principal, window.device)
  if (window.to <= window.from) {
    throw new CloudError('CLOUD_INVALID', 'replay window: to must be after from', {
      details: { field: 'to' },
    })
  }
  const topics = deviceTopics(device.id)
  const telemetry = await telemetryOf(sources.store, principal.tenantId, device.id, window)
  const reported = twinReportsOf(sources.twins, principal, device.id, window).map(
    (c): RuleMessage => ({
      deviceId: device.id,
      kind: 'twin.reported',
      topic: topics.twinReported(),
      ts: c.at,
      payload: c.patch,
    }),
  )
  const all = [
    ...telemetry.map((r): RuleMessage => ({
      ...r,
      deviceId: device.id,
      topic: topics.telemetry(),
    })),
    ...reported,
  ]
  // Stable: telemetry stays before a twin report of the same millisecond.
  all.sort((a, b) => a.ts - b.ts)
  let twin: RuleContext['twin']
  try {
    const t = sources.twins.get(principal, device.id, { at: window.from })
    twin = { desired: t.desired, reported: t.reported }
  } catch {
    twin = undefined // no twin history that far back: the rule sees an empty twin
  }
  return {
    messages: all.slice(0, window.limit),
    truncated: all.length > window.limit,
    context: {
      device: { labels: device.labels, attributes: device.attributes },
      ...(twin === undefined ? {} : { twin }),
    },
  }
}

type Record_ = Pick<RuleMessage, 'kind' | 'ts' | 'payload' | 'tags'>

/** The device's telemetry records in the window, in no particular order. */
async function telemetryOf(
  store: TimeSeriesStore,
  tenant: string,
  device: string,
  window: ReplayWindow,
): Promise<Record_[]> {
  const records = new Map<
    string,
    { ts: number; tags: Record<string, string>; values: Record<string, unknown> }
  >()
  let points = 0
  for await (const series of store.readAll({
    selector: { tenant, device },
    from: window.from,
    to: window.to,
  })) {
    points += series.times.length
    if (points > maxReplayPoints) {
      throw new CloudError(
        'CLOUD_INVALID',
        `the replay window of ${device} holds over ${String(maxReplayPoints)} points`,
        {
          hint: 'Replay a shorter window (from, to).',
          details: { field: 'to', maxPoints: maxReplayPoints },
        },
      )
    }
    const tags = series.key.tags
    const tagKey = JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1)))
    series.times.forEach((ts, i) => {
      const key = `${String(ts)}\u0000${tagKey}`
      let record = records.get(key)
      if (record === undefined) {
        record = { ts, tags, values: {} }
        records.set(key, record)
      }
      record.values[series.key.metric] = series.values[i]
    })
  }
  return [...records.values()].map((r) => ({
    kind: 'telemetry',
    ts: r.ts,
    payload: r.values,
    ...(Object.keys(r.tags).length === 0 ? {} : { tags: r.tags }),
  }))
}

/** The device's reported twin changes in the window, oldest first. */
function twinReportsOf(
  twins: DeviceTwins,
  principal: Principal,
  device: string,
  window: ReplayWindow,
) {
  const changes = []
  let cursor: string | undefined
  do {
    const page = twins.history(principal, device, {
      side: 'reported',
      from: window.from,
      to: window.to - 1,
      limit: twinPage,
      ...(cursor === undefined ? {} : { cursor }),
    })
    changes.push(...page.items)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined && changes.length <= maxReplayPoints)
  return changes.filter((c) => c.at >= window.from && c.at < window.to).reverse()
}
