import type { FastifyReply } from 'fastify'
import type { AggregateFunction, Fill, SeriesSelector, TagMatcher, Value } from '@strata/tsdb'
import Type from 'typebox'
import { requirePermission } from '../../accounts/roles.js'
import { CloudError } from '../../errors.js'
import { parseLabelQuery } from '../../registry/label-query.js'
import type { Api, HttpServices, WithHeaders } from '../api-types.js'
import { Nullable } from '../schemas.js'
import { Time, timeOf } from '../time-params.js'

const SelectorQuery = {
  device: Type.Optional(
    Type.String({ maxLength: 4096, description: 'a device id, or several joined by commas' }),
  ),
  metric: Type.Optional(Type.String({ maxLength: 128 })),
  tags: Type.Optional(
    Type.String({
      maxLength: 2048,
      description: 'tag query: probe=north,room!=lab,calibrated,!spare',
    }),
  ),
}
const JsonValue = Type.Union([Type.Number(), Type.Boolean(), Type.String(), Type.Null()])
const SeriesKey = Type.Object({
  device: Type.String(),
  metric: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
})
const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** Time-series queries over the caller's tenant: series, raw pages, bucketed aggregates, latest. */
export function registerTelemetryRoutes(app: Api, s: HttpServices): void {
  app.get(
    '/api/v1/telemetry/series',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'The series a selector matches',
        querystring: Type.Object(SelectorQuery),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ key: SeriesKey, type: Type.String() })),
          }),
        },
      },
    },
    async (req) => {
      const selector = await selectorOf(s, req, req.query)
      const series = await s.store.series(selector)
      return { items: series.map((x) => ({ key: keyOf(x.key), type: x.type })) }
    },
  )

  app.get(
    '/api/v1/telemetry/raw',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'Raw points in [from, to), a page at a time',
        querystring: Type.Object({
          ...SelectorQuery,
          from: Time,
          to: Time,
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          cursor: Type.Optional(Type.String({ maxLength: 1024 })),
        }),
        response: {
          200: Type.Object({
            series: Type.Array(
              Type.Object({
                key: SeriesKey,
                type: Type.String(),
                times: Type.Array(Type.Integer()),
                values: Type.Array(JsonValue),
              }),
            ),
            nextCursor: Nullable(Type.String()),
          }),
        },
      },
    },
    async (req, reply) => {
      const selector = await selectorOf(s, req, req.query)
      const page = await s.store.read({
        selector,
        from: timeOf(req.query.from, 'from'),
        to: timeOf(req.query.to, 'to'),
        ...(req.query.limit === undefined ? {} : { limit: req.query.limit }),
        ...(req.query.cursor === undefined ? {} : { cursor: req.query.cursor }),
        signal: abortOnClose(reply),
      })
      return {
        series: page.series.map((p) => ({
          key: keyOf(p.key),
          type: p.type,
          times: p.times,
          values: p.values.map(jsonValue),
        })),
        nextCursor: page.cursor,
      }
    },
  )

  app.get(
    '/api/v1/telemetry/aggregate',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'Aggregates per time bucket of one metric over one or many series',
        querystring: Type.Object({
          ...SelectorQuery,
          metric: Type.String({ maxLength: 128 }),
          from: Time,
          to: Time,
          bucket: Type.String({
            maxLength: 20,
            description: 'bucket width: 500ms, 10s, 5m, 1h, 1d',
          }),
          fn: Type.Optional(
            Type.String({
              maxLength: 200,
              description:
                'functions joined by commas: count,sum,min,max,mean,first,last,stddev,p50,p99… (default mean)',
            }),
          ),
          groupBy: Type.Optional(
            Type.String({
              maxLength: 512,
              description: '"series" (default), or tag names joined by commas; empty for one group',
            }),
          ),
          fill: Type.Optional(
            Type.String({
              maxLength: 40,
              description: 'none (default), null, previous, linear, or a number',
            }),
          ),
        }),
        response: {
          200: Type.Object({
            groups: Type.Array(
              Type.Object({
                series: Type.Optional(SeriesKey),
                tags: Type.Record(Type.String(), Type.String()),
                times: Type.Array(Type.Integer()),
                values: Type.Record(Type.String(), Type.Array(JsonValue)),
              }),
            ),
          }),
        },
      },
    },
    async (req, reply) => {
      const q = req.query
      const selector = await selectorOf(s, req, q)
      const groupBy =
        q.groupBy === undefined || q.groupBy === 'series'
          ? 'series'
          : q.groupBy
              .split(',')
              .map((t) => t.trim())
              .filter((t) => t !== '')
      const result = await s.store.aggregate({
        selector: { ...selector, metric: q.metric },
        from: timeOf(q.from, 'from'),
        to: timeOf(q.to, 'to'),
        bucket: durationOf(q.bucket),
        functions: (q.fn ?? 'mean').split(',').map((f) => f.trim()) as AggregateFunction[],
        groupBy,
        ...(q.fill === undefined ? {} : { fill: fillOf(q.fill) }),
        signal: abortOnClose(reply),
      })
      return {
        groups: result.groups.map((g) => ({
          ...(g.series === undefined ? {} : { series: keyOf(g.series) }),
          tags: g.tags,
          times: g.times,
          values: Object.fromEntries(
            Object.entries(g.values).map(([f, vs]) => [
              f,
              vs.map((v) => (v === null ? null : jsonValue(v))),
            ]),
          ),
        })),
      }
    },
  )

  app.get(
    '/api/v1/telemetry/latest',
    {
      schema: {
        tags: ['telemetry'],
        summary: 'The newest point of each matched series (dashboards)',
        querystring: Type.Object({ ...SelectorQuery, before: Type.Optional(Time) }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                key: SeriesKey,
                type: Type.String(),
                time: Type.Integer(),
                value: JsonValue,
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const selector = await selectorOf(s, req, req.query)
      const latest = await s.store.latest({
        selector,
        ...(req.query.before === undefined ? {} : { before: timeOf(req.query.before, 'before') }),
      })
      return {
        items: latest.map((l) => ({
          key: keyOf(l.key),
          type: l.type,
          time: l.time,
          value: jsonValue(l.value),
        })),
      }
    },
  )
}

async function selectorOf(
  s: HttpServices,
  req: WithHeaders,
  q: { device?: string | undefined; metric?: string | undefined; tags?: string | undefined },
): Promise<SeriesSelector> {
  const principal = await s.principal(req)
  requirePermission(principal, 'telemetry:read')
  const devices = q.device
    ?.split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
  const tags =
    q.tags === undefined || q.tags === '' ? undefined : parseLabelQuery(q.tags).map(tagMatcher)
  return {
    tenant: principal.tenantId,
    ...(devices === undefined || devices.length === 0
      ? {}
      : { device: devices.length === 1 ? (devices[0] as string) : devices }),
    ...(q.metric === undefined ? {} : { metric: q.metric }),
    ...(tags === undefined ? {} : { tags }),
  }
}

function tagMatcher(t: ReturnType<typeof parseLabelQuery>[number]): TagMatcher {
  switch (t.op) {
    case 'eq':
      return { name: t.key, op: '=', value: t.value }
    case 'ne':
      return { name: t.key, op: '!=', value: t.value }
    case 'has':
      return { name: t.key, op: 'exists' }
    case 'lacks':
      return { name: t.key, op: 'absent' }
  }
}

/** `500ms`, `10s`, `5m`, `1h`, `1d`, or plain milliseconds. */
export function durationOf(text: string): number {
  const m = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(text.trim())
  const n = m === null ? Number.NaN : Number(m[1]) * units[(m[2] ?? 'ms') as keyof typeof units]
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new CloudError(
      'CLOUD_INVALID',
      `bucket: ${JSON.stringify(text.slice(0, 20))} is not a duration like 500ms, 10s, 5m, 1h or 1d`,
      { details: { field: 'bucket' } },
    )
  }
  return n
}

function fillOf(text: string): Fill {
  if (text === 'none' || text === 'null' || text === 'previous' || text === 'linear') return text
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n)) {
    throw new CloudError(
      'CLOUD_INVALID',
      `fill: ${JSON.stringify(text)} is not none, null, previous, linear or a number`,
      { details: { field: 'fill' } },
    )
  }
  return n
}

function keyOf(key: { device: string; metric: string; tags: Readonly<Record<string, string>> }) {
  return { device: key.device, metric: key.metric, tags: key.tags }
}

/** int64 values that fit a double travel as numbers, larger ones as decimal strings. */
function jsonValue(v: Value): number | boolean | string {
  if (typeof v !== 'bigint') return v
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v.toString()
}

/** An AbortSignal that fires when the client goes away, so the store stops scanning. */
function abortOnClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort()
  })
  return controller.signal
}
