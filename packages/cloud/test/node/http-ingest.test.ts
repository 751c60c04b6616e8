import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gzipSync } from 'node:zlib'
import { InfluxDB, Point } from '@influxdata/influxdb-client'
import { adminOf, apiClient, deviceWithToken, startTestNode } from './node-fixture.js'

test('the official InfluxDB v2 client writes to /api/v2/write unchanged, with a device token', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'gw-1')
  const influx = new InfluxDB({ url: node.httpUrl, token })
  const writer = influx.getWriteApi('any-org', 'any-bucket', 'ms')
  const ts = Date.now()
  writer.writePoint(
    new Point('env').tag('room', 'lab').floatField('temp', 21.5).intField('count', 3).timestamp(ts),
  )
  writer.writePoint(
    new Point('env')
      .tag('room', 'lab')
      .floatField('temp', 21.75)
      .timestamp(ts + 1000),
  )
  await writer.close()
  const raw = await admin.get(
    `/api/v1/telemetry/raw?device=gw-1&metric=env.temp&tags=room=lab&from=${String(ts)}&to=${String(ts + 2000)}`,
  )
  assert.deepEqual(raw.body.series[0].values, [21.5, 21.75])
  const count = await admin.get('/api/v1/telemetry/latest?device=gw-1&metric=env.count')
  assert.equal(count.body.items[0].value, 3)
  assert.equal(count.body.items[0].type, 'int')
})

test('an API token writes for many devices by their device tag; bad lines are reported and the rest stored', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await admin.post('/api/v1/devices', { id: 'a' })
  await admin.post('/api/v1/devices', { id: 'b' })
  const writer = await admin.post('/api/v1/tokens', { name: 'telegraf', role: 'operator' })
  const ts = Date.now()
  const body = [
    `cpu,device=a usage=1.5 ${String(ts)}`,
    `cpu,device=b usage=2.5 ${String(ts)}`,
    'cpu,device=a usage=',
    `cpu,device=nobody usage=9 ${String(ts)}`,
    `cpu usage=9 ${String(ts)}`,
    `cpu,device=b usage=3.5 ${String(ts + 1)}`,
    `cpu,device=a usage=4.5,big=18446744073709551615u ${String(ts + 2)}`,
  ].join('\n')
  const res = await fetch(`${node.httpUrl}/api/v2/write?org=o&bucket=b&precision=ms`, {
    method: 'POST',
    headers: {
      authorization: `Token ${String(writer.body.token)}`,
      'content-type': 'text/plain; charset=utf-8',
      'content-encoding': 'gzip',
    },
    body: gzipSync(body),
  })
  assert.equal(res.status, 400)
  const reply = (await res.json()) as { code: string; message: string }
  assert.equal(reply.code, 'invalid')
  assert.match(reply.message, /4 line\(s\) refused/)
  assert.match(reply.message, /line 7: field big: unsigned 18446744073709551615 exceeds int64/)
  assert.match(reply.message, /line 3/)
  assert.match(reply.message, /no device "nobody"/)
  const latest = await admin.get('/api/v1/telemetry/latest?metric=cpu.usage')
  assert.deepEqual(
    latest.body.items.map((i: any): unknown[] => [i.key.device, i.value]),
    [
      ['a', 1.5],
      ['b', 3.5],
    ],
  )
  // A viewer may not write; no token at all is 401.
  const viewer = await admin.post('/api/v1/tokens', { name: 'ro', role: 'viewer' })
  const denied = await fetch(`${node.httpUrl}/api/v2/write`, {
    method: 'POST',
    headers: { authorization: `Token ${String(viewer.body.token)}`, 'content-type': 'text/plain' },
    body: 'cpu,device=a usage=1',
  })
  assert.equal(denied.status, 403)
  const anonymous = await fetch(`${node.httpUrl}/api/v2/write`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'cpu,device=a usage=1',
  })
  assert.equal(anonymous.status, 401)
})

test('bucketed aggregates and Prometheus metrics behind a token', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  const token = await deviceWithToken(admin, 'agg')
  const base = Math.floor(Date.now() / 300_000) * 300_000 - 15 * 60_000
  const lines = Array.from(
    { length: 600 },
    (_, i) => `m v=${String(i)} ${String(base + i * 1000)}`,
  ).join('\n')
  const res = await fetch(`${node.httpUrl}/api/v2/write?precision=ms`, {
    method: 'POST',
    headers: { authorization: `Token ${token}`, 'content-type': 'text/plain' },
    body: lines,
  })
  assert.equal(res.status, 204)
  const agg = await admin.get(
    `/api/v1/telemetry/aggregate?device=agg&metric=m.v&from=${String(base)}&to=${String(base + 600_000)}&bucket=5m&fn=count,min,max,mean`,
  )
  const group = agg.body.groups[0]
  assert.deepEqual(group.times, [base, base + 300_000])
  assert.deepEqual(group.values.count, [300, 300])
  assert.deepEqual(group.values.min, [0, 300])
  assert.deepEqual(group.values.max, [299, 599])
  const bad = await admin.get(
    `/api/v1/telemetry/aggregate?device=agg&metric=m.v&from=0&to=${String(base)}&bucket=1ms`,
    [422],
  )
  assert.equal(bad.body.code, 'TSDB_QUERY_TOO_LARGE')

  const anonymous = await fetch(`${node.httpUrl}/metrics`)
  assert.equal(anonymous.status, 401)
  const viewer = await admin.post('/api/v1/tokens', { name: 'v', role: 'viewer' })
  await apiClient(node.httpUrl, viewer.body.token).get('/metrics', [403])
  const scrape = await fetch(`${node.httpUrl}/metrics`, {
    headers: {
      authorization: `Bearer ${String((await admin.post('/api/v1/tokens', { name: 'prom', role: 'admin' })).body.token)}`,
    },
  })
  const text = await scrape.text()
  assert.match(text, /^strata_points_stored_total 600$/m)
  assert.match(text, /^strata_mqtt_connections 0$/m)
})
