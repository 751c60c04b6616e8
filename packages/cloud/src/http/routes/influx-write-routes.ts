import {
  deviceTopics,
  isStrataError,
  parseLineProtocol,
  telemetryLimits,
  type LinePoint,
  type LinePrecision,
  type TelemetryRecord,
} from '@strata/protocol'
import type { SeriesBatch } from '@strata/tsdb'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import Type from 'typebox'
import { can } from '../../accounts/roles.js'
import { CloudError } from '../../errors.js'
import { pointCount, toSeriesBatches } from '../../ingestion/telemetry-batches.js'
import { isPointRefusal } from '../../ingestion/write-batcher.js'
import { parseToken } from '../../secrets/token-format.js'
import type { Api, HttpServices, WithHeaders } from '../api-types.js'
import { tokenOf } from '../authenticate.js'

const gunzipAsync = promisify(gunzip)
const maxBodyBytes = 25 * 1024 * 1024
const maxInt64 = 2n ** 63n - 1n
const perMs: Record<LinePrecision, bigint> = { ns: 1_000_000n, us: 1_000n, ms: 1n, s: 1n }

/** The tag that names the device of a line when the writer is not itself a device. */
export const deviceTag = 'device'

/** Where each line goes: a fixed device (a device token), or the line's `device` tag in a tenant. */
type Writer = { readonly tenantId: string; readonly deviceId?: string }

/**
 * `POST /api/v2/write`: the InfluxDB v2 line-protocol write API, so that Telegraf and InfluxDB
 * client libraries send to Strata unchanged (`Authorization: Token …`, `?precision=`, gzip bodies).
 * `org` and `bucket` are accepted and ignored: the token decides the tenant. With a device token
 * every line belongs to that device; with an API token (a role that may write telemetry) each line
 * names its device in a `device` tag. Lines that fail are reported (line number and why) and the
 * rest are stored: one bad line never poisons the batch.
 */
export function registerInfluxWriteRoutes(app: Api, s: HttpServices): void {
  app.addContentTypeParser(
    ['text/plain', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: maxBodyBytes },
    (_req, body, done) => {
      done(null, body)
    },
  )
  app.post(
    '/api/v2/write',
    {
      bodyLimit: maxBodyBytes,
      schema: {
        tags: ['telemetry'],
        summary: 'InfluxDB v2 compatible line-protocol write (Telegraf, InfluxDB clients)',
        querystring: Type.Object({
          org: Type.Optional(Type.String({ maxLength: 256 })),
          orgID: Type.Optional(Type.String({ maxLength: 256 })),
          bucket: Type.Optional(Type.String({ maxLength: 256 })),
          precision: Type.Optional(
            Type.Union([
              Type.Literal('ns'),
              Type.Literal('us'),
              Type.Literal('ms'),
              Type.Literal('s'),
            ]),
          ),
        }),
      },
    },
    async (req, reply) => {
      const writer = await writerOf(s, req)
      const body = await bodyOf(req)
      const precision = req.query.precision ?? 'ns'
      const { points, errors } = parseLines(body)
      const now = s.clock()
      const { batches, refused, byDevice } = toBatches(s, writer, points, precision, now)
      errors.push(...refused)
      const written = await writeIsolated(s, batches)
      errors.push(...written.errors)
      offerToRules(s, writer.tenantId, byDevice, written.refusedSeries, now)
      if (errors.length === 0) return reply.status(204).send()
      errors.sort((a, b) => a.line - b.line)
      const shown = errors.slice(0, 20).map((e) => `line ${String(e.line)}: ${e.message}`)
      return reply.status(400).send({
        code: 'invalid',
        message: `partial write: ${String(errors.length)} line(s) refused, the others stored; ${shown.join('; ')}`,
        line: errors[0]?.line,
      })
    },
  )
}

/**
 * Writes every batch; when the store refuses the whole (a value of the wrong type for its series,
 * a point too late…), writes series by series so that only the refused series fail.
 */
async function writeIsolated(
  s: HttpServices,
  batches: readonly SeriesBatch[],
): Promise<{ errors: LineError[]; refusedSeries: Set<string> }> {
  const errors: LineError[] = []
  const refusedSeries = new Set<string>()
  if (pointCount(batches) === 0) return { errors, refusedSeries }
  try {
    await s.batcher.write(batches)
    return { errors, refusedSeries }
  } catch (err) {
    if (!isPointRefusal(err)) throw err
  }
  for (const batch of batches) {
    try {
      await s.batcher.write([batch])
    } catch (err) {
      if (!isPointRefusal(err) || !isStrataError(err)) throw err
      const { device, metric, tags } = batch.series
      refusedSeries.add(seriesKey(device, metric, tags))
      errors.push({
        line: 0,
        message: `series ${device}/${metric}: ${err.message}`,
      })
    }
  }
  return { errors, refusedSeries }
}

/** A series' identity within one write: device, metric and its tags in key order. */
function seriesKey(
  deviceId: string,
  metric: string,
  tags: Readonly<Record<string, string>> | undefined,
): string {
  const sorted = Object.entries(tags ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))
  return `${deviceId}\u001f${metric}\u001f${JSON.stringify(sorted)}`
}

/**
 * Hands the durable records to the rules, device by device, as telemetry of the device's
 * line-protocol topic — the same path MQTT telemetry takes. Values of refused series are left out.
 */
function offerToRules(
  s: HttpServices,
  tenantId: string,
  byDevice: ReadonlyMap<string, TelemetryRecord[]>,
  refusedSeries: ReadonlySet<string>,
  receivedAt: number,
): void {
  const onAccepted = s.onAccepted
  if (onAccepted === undefined) return
  for (const [deviceId, all] of byDevice) {
    const records =
      refusedSeries.size === 0
        ? all
        : all.flatMap((r) => {
            const values = Object.fromEntries(
              Object.entries(r.values).filter(
                ([metric]) => !refusedSeries.has(seriesKey(deviceId, metric, r.tags)),
              ),
            )
            return Object.keys(values).length === 0 ? [] : [{ ...r, values }]
          })
    if (records.length === 0) continue
    // The rule engine never throws into ingestion and returns at once (actions are not awaited).
    onAccepted({
      tenantId,
      deviceId,
      topic: deviceTopics(deviceId).telemetry('lp'),
      kind: 'telemetry',
      format: 'lp',
      payload: new Uint8Array(),
      receivedAt,
      records,
    })
  }
}

async function writerOf(s: HttpServices, req: WithHeaders): Promise<Writer> {
  const token = tokenOf(req) ?? ''
  if (parseToken(token)?.kind === 'device') {
    const device = s.registry.lookup(await s.deviceTokenSubject(token))
    if (device === undefined || (device.state !== 'active' && device.state !== 'provisioned')) {
      throw new CloudError('CLOUD_FORBIDDEN', 'this device may not send telemetry', {
        hint: 'The device is disabled, revoked or pending approval.',
      })
    }
    return { tenantId: device.tenantId, deviceId: device.id }
  }
  const principal = await s.principal(req)
  if (!can(principal, 'telemetry:write')) {
    throw new CloudError('CLOUD_FORBIDDEN', `role ${principal.role} may not write telemetry`, {
      hint: 'Use a device token, or an API token with role operator or admin.',
    })
  }
  return { tenantId: principal.tenantId }
}

async function bodyOf(req: WithHeaders & { readonly body: unknown }): Promise<Buffer> {
  const raw = Buffer.isBuffer(req.body)
    ? req.body
    : Buffer.from(typeof req.body === 'string' ? req.body : '')
  if (req.headers['content-encoding'] !== 'gzip') return raw
  try {
    return await gunzipAsync(raw, { maxOutputLength: maxBodyBytes })
  } catch (err) {
    throw new CloudError('CLOUD_INVALID', 'the body is not gzip, or inflates beyond 25 MiB', {
      cause: err,
    })
  }
}

interface LineError {
  readonly line: number
  readonly message: string
}

/** All lines at once (the fast path); when that fails, line by line, keeping the good ones. */
function parseLines(body: Buffer): {
  points: { point: LinePoint; line: number }[]
  errors: LineError[]
} {
  const options = { maxBytes: maxBodyBytes, maxLines: 1_000_000 }
  try {
    const points = parseLineProtocol(body, options)
    return { points: points.map((point, i) => ({ point, line: i + 1 })), errors: [] }
  } catch {
    const points: { point: LinePoint; line: number }[] = []
    const errors: LineError[] = []
    const lines = body.toString('utf8').split('\n')
    lines.forEach((text, i) => {
      try {
        for (const point of parseLineProtocol(text, options)) points.push({ point, line: i + 1 })
      } catch (err) {
        errors.push({
          line: i + 1,
          message: isStrataError(err) ? err.message.replace(/^line 1, /, '') : 'unparseable',
        })
      }
    })
    return { points, errors }
  }
}

function toBatches(
  s: HttpServices,
  writer: Writer,
  points: readonly { point: LinePoint; line: number }[],
  precision: LinePrecision,
  now: number,
): {
  batches: SeriesBatch[]
  refused: LineError[]
  byDevice: Map<string, TelemetryRecord[]>
} {
  const refused: LineError[] = []
  const byDevice = new Map<string, TelemetryRecord[]>()
  const known = new Map<string, boolean>()
  for (const { point, line } of points) {
    let deviceId = writer.deviceId
    const tags: Record<string, string> = {}
    for (const [k, v] of point.tags) {
      if (k === deviceTag && writer.deviceId === undefined) deviceId = v
      else tags[k] = v
    }
    if (deviceId === undefined) {
      refused.push({
        line,
        message: `no ${deviceTag} tag: with an API token each line names its device`,
      })
      continue
    }
    let ok = known.get(deviceId)
    if (ok === undefined) {
      ok = s.registry.lookup(deviceId)?.tenantId === writer.tenantId
      known.set(deviceId, ok)
    }
    if (!ok) {
      refused.push({ line, message: `no device ${JSON.stringify(deviceId)} in your tenant` })
      continue
    }
    const ts = point.timestamp === undefined ? now : toMs(point.timestamp, precision)
    if (ts === undefined || Object.keys(tags).length > telemetryLimits.maxTags) {
      refused.push({
        line,
        message: ts === undefined ? 'timestamp out of range' : 'too many tags',
      })
      continue
    }
    // A line is stored whole or refused whole, as InfluxDB does.
    const overflow = point.fields.find(([, v]) => v.type === 'unsigned' && v.value > maxInt64)
    if (overflow !== undefined) {
      refused.push({
        line,
        message: `field ${overflow[0]}: unsigned ${String(overflow[1].value)} exceeds int64`,
      })
      continue
    }
    const values = Object.fromEntries(
      point.fields.map(([field, v]) => [`${point.measurement}.${field}`, v.value]),
    )
    const records = byDevice.get(deviceId) ?? []
    byDevice.set(deviceId, records)
    records.push({ ts, values, ...(Object.keys(tags).length === 0 ? {} : { tags }) })
  }
  const batches = [...byDevice].flatMap(([deviceId, records]) =>
    toSeriesBatches({ tenantId: writer.tenantId, deviceId }, records, now),
  )
  return { batches, refused, byDevice }
}

function toMs(timestamp: bigint, precision: LinePrecision): number | undefined {
  const ms =
    precision === 's'
      ? timestamp * 1000n
      : timestamp / perMs[precision] -
        (timestamp < 0n && timestamp % perMs[precision] !== 0n ? 1n : 0n)
  return ms < 0n || ms > 253_402_300_799_999n ? undefined : Number(ms)
}
