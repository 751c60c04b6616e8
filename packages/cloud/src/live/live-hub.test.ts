import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SeriesBatch } from '@strata/tsdb'
import { parseLabelQuery } from '../registry/label-query.js'
import type { LiveEvent, LiveTopic } from './live-events.js'
import { LiveHub, type HubSubscription, type LiveDeviceInfo } from './live-hub.js'

const devices: Record<string, LiveDeviceInfo> = {
  'a-1': { tenantId: 'a', labels: { site: 'berlin' } },
  'a-2': { tenantId: 'a', labels: { site: 'paris' } },
  'b-1': { tenantId: 'b', labels: { site: 'berlin' } },
}

function hubWithLookups() {
  const lookups: string[] = []
  const hub = new LiveHub(
    {
      lookup: (id) => {
        lookups.push(id)
        return devices[id]
      },
      clock: () => 0,
    },
    { maxPointsPerEvent: 3 },
  )
  return { hub, lookups }
}

function subscriber(
  tenantId: string,
  topics: LiveTopic[],
  filters: { devices?: string[]; labels?: string; metrics?: string[] } = {},
) {
  const got: LiveEvent[] = []
  const sub: HubSubscription = {
    tenantId,
    topics: new Set(topics),
    devices: filters.devices === undefined ? undefined : new Set(filters.devices),
    labels: filters.labels === undefined ? undefined : parseLabelQuery(filters.labels),
    metrics: filters.metrics === undefined ? undefined : new Set(filters.metrics),
    deliver: (e) => got.push(e),
  }
  return { sub, got }
}

const batch = (tenant: string, device: string, metric: string, n: number): SeriesBatch => ({
  series: { tenant, device, metric },
  times: Array.from({ length: n }, (_, i) => 1000 + i),
  values: Array.from({ length: n }, (_, i) => i),
})

const presence = (deviceId: string) => ({
  previous: undefined,
  current: {
    deviceId,
    status: 'online' as const,
    reason: 'connected',
    since: 5,
    lastSeenAt: 5,
    wakeBy: null,
  },
})

test('with nobody subscribed, publishing looks nothing up', () => {
  const { hub, lookups } = hubWithLookups()
  hub.publishTelemetry([batch('a', 'a-1', 'temp', 2)])
  hub.publishPresence(presence('a-1'))
  hub.publishTwin('a-1', 'desired', 1, { x: 1 })
  hub.publishCommand({ tenantId: 'a', deviceId: 'a-1', id: 'c', name: 'n', status: 'queued' })
  assert.deepEqual(lookups, [])
  // A telemetry subscriber does not make presence or twin publishing look anything up.
  const { sub } = subscriber('a', ['telemetry'])
  hub.add(sub)
  hub.publishPresence(presence('a-1'))
  hub.publishTwin('a-1', 'desired', 1, { x: 1 })
  assert.deepEqual(lookups, [])
  hub.remove(sub)
  assert.equal(hub.listens('telemetry'), false)
})

test('events stay in their tenant, and device, label and metric filters apply', () => {
  const { hub } = hubWithLookups()
  const all = subscriber('a', ['telemetry', 'presence', 'twin', 'commands'])
  const berlin = subscriber('a', ['telemetry', 'presence'], { labels: 'site=berlin' })
  const temp = subscriber('a', ['telemetry'], { devices: ['a-2'], metrics: ['temp'] })
  const otherTenant = subscriber('b', ['telemetry', 'presence', 'twin', 'commands'], {
    devices: ['a-1'],
  })
  for (const s of [all, berlin, temp, otherTenant]) hub.add(s.sub)

  hub.publishTelemetry([
    batch('a', 'a-1', 'temp', 1),
    batch('a', 'a-2', 'temp', 1),
    batch('a', 'a-2', 'hum', 1),
    batch('b', 'b-1', 'temp', 1),
  ])
  hub.publishPresence(presence('a-1'))
  hub.publishPresence(presence('b-1'))
  hub.publishTwin('a-2', 'reported', 3, { fw: '1' })
  hub.publishCommand({ tenantId: 'a', deviceId: 'a-1', id: 'c1', name: 'reboot', status: 'failed' })

  const brief = (events: LiveEvent[]) =>
    events.map((e) =>
      e.type === 'telemetry'
        ? `${e.deviceId}:${e.points.map((p) => p.metric).join('+')}`
        : `${e.type}:${e.deviceId}`,
    )
  assert.deepEqual(brief(all.got), [
    'a-1:temp',
    'a-2:temp+hum',
    'presence:a-1',
    'twin:a-2',
    'command:a-1',
  ])
  assert.deepEqual(brief(berlin.got), ['a-1:temp', 'presence:a-1'])
  assert.deepEqual(brief(temp.got), ['a-2:temp'])
  assert.deepEqual(otherTenant.got, [], 'naming another tenant’s device gets nothing')
})

test('a large write becomes several telemetry events; int64 beyond 2^53 travels as a string', () => {
  const { hub } = hubWithLookups()
  const s = subscriber('a', ['telemetry'])
  hub.add(s.sub)
  hub.publishTelemetry([
    batch('a', 'a-1', 'temp', 5),
    {
      series: { tenant: 'a', device: 'a-1', metric: 'count', tags: { probe: 'n' } },
      times: [7],
      values: [2n ** 60n],
    },
  ])
  assert.deepEqual(
    s.got.map((e) => (e.type === 'telemetry' ? e.points.length : 0)),
    [3, 3],
  )
  const last = s.got.at(-1)
  assert.ok(last?.type === 'telemetry')
  assert.deepEqual(last.points.at(-1), {
    metric: 'count',
    ts: 7,
    value: '1152921504606846976',
    tags: { probe: 'n' },
  })
})

test('a subscriber that throws does not reach the producer', () => {
  const { hub } = hubWithLookups()
  hub.add({
    ...subscriber('a', ['telemetry']).sub,
    deliver: () => {
      throw new Error('boom')
    },
  })
  assert.doesNotThrow(() => hub.publishTelemetry([batch('a', 'a-1', 'temp', 1)]))
})
