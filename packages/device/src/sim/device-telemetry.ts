import type { PublishProperties } from '../link/link.js'
import { drainBattery } from './device-power.js'
import type { SimDevice } from './sim-device.js'
import { corruptPayload, encodeReadings, type TelemetryRecordOut } from './telemetry-payload.js'

const never = Number.POSITIVE_INFINITY
/** Most buffered records sent in one message when a device catches up after being offline. */
const flushBatchRecords = 100
/** Twin reports, command answers and progress reports kept while offline, oldest dropped first. */
const maxOutbox = 50

/** A non-telemetry message waiting for a connection. */
export interface OutMessage {
  readonly topic: string
  readonly payload: Buffer
  readonly properties?: PublishProperties
}

/** Periods a device catches up on after the event loop stalled; beyond, it skips ahead. */
const maxCatchUpPeriods = 10

/**
 * A report is due: take the readings of the period ending at `reportAt`, send them or keep them
 * in RAM, and move to the next period. A short stall of the event loop is caught up period by
 * period (the scheduler fires the device again at once), so a seed gives the same readings
 * however busy the machine; a long one skips ahead, as a stalled device would.
 */
export function reportDue(d: SimDevice, now: number): void {
  const at = d.reportAt
  const period = d.reportEveryMs
  let next = at + period
  if (now - next > maxCatchUpPeriods * period)
    next = at + Math.ceil((now - at + 1) / period) * period
  d.reportAt = next >= d.awakeEnd ? never : next
  if (d.dead || d.state === 'poweredOff' || d.state === 'sleeping') return
  if (!drainBattery(d, now)) return
  const records = takeReadings(d, at, period)
  if (!sendRecords(d, records, now)) bufferRecords(d, records, now)
}

function takeReadings(d: SimDevice, at: number, period: number): TelemetryRecordOut[] {
  const p = d.ctx.profile
  const n = p.readingsPerMessage
  const step = period / n
  const battery = p.battery
  const records: TelemetryRecordOut[] = []
  for (let i = 0; i < n; i++) {
    const t = at - (n - 1 - i) * step
    const values = d.ctx.plan.sample(d.rng, d.signals, t)
    if (battery?.reportAs !== undefined) {
      values[battery.reportAs] = Math.round((d.batteryMah / battery.capacityMah) * 1000) / 10
    }
    records.push(p.timestamps ? { ts: d.deviceTime(t), values } : { values })
  }
  return records
}

/** Bytes the device holds in RAM for buffered records and its largest packet. */
function ramBytes(d: SimDevice, extraRecords: number, packetBytes: number): number {
  const records = (d.buffer?.length ?? 0) + extraRecords
  return records * d.ctx.recordBytes + Math.max(d.maxMessageBytes, packetBytes)
}

function violation(d: SimDevice, message: string, now: number): void {
  d.budgetViolations++
  d.ctx.counters.add('budgetViolations')
  d.recordError('BUDGET_RAM', message, now)
}

/**
 * Sends records as one telemetry message. False when the link cannot take it now (offline, or
 * the in-flight window is full): the caller keeps them. A message over the RAM budget is refused
 * (counted, records dropped) and reported as handled.
 */
export function sendRecords(d: SimDevice, records: TelemetryRecordOut[], now: number): boolean {
  const link = d.link
  if (!link.canPublish) return false
  const ctx = d.ctx
  const p = ctx.profile
  let payload = encodeReadings(records, p.format)
  const budget = p.budget
  if (budget !== undefined) {
    const need = ramBytes(d, 0, payload.length)
    if (need > budget.ramBytes) {
      violation(
        d,
        `a ${String(payload.length)}-byte message needs ${String(need)} bytes of RAM`,
        now,
      )
      ctx.counters.add('recordsDropped', records.length)
      return true
    }
    if (need > d.ramPeakBytes) d.ramPeakBytes = need
  }
  if (payload.length > d.maxMessageBytes) d.maxMessageBytes = payload.length
  if (now < d.corruptUntil && d.jitter.chance(d.corruptShare))
    payload = corruptPayload(payload, d.jitter)
  const topic = `strata/v1/devices/${d.id}/telemetry${p.format === 'cbor' ? '/cbor' : ''}`
  const id = link.publish(topic, payload, p.qos)
  if (id < 0) return false
  let points = 0
  for (const record of records) points += Object.keys(record.values).length
  d.messagesSent++
  d.pointsSent += points
  ctx.counters.add('messagesSent')
  ctx.counters.add('telemetrySent')
  ctx.counters.add('pointsSent', points)
  if (p.qos === 1) ctx.counters.unacked++
  const battery = p.battery
  if (battery !== undefined && battery.perMessageMah > 0)
    drainBattery(d, now, battery.perMessageMah)
  return true
}

/** Keeps readings in RAM until the link is back, within the buffer size and the RAM budget. */
export function bufferRecords(d: SimDevice, records: TelemetryRecordOut[], now: number): void {
  const ctx = d.ctx
  const p = ctx.profile
  const counters = ctx.counters
  const cap = p.offlineBufferRecords
  for (const record of records) {
    if (cap === 0) {
      counters.add('recordsDropped')
      continue
    }
    const budget = p.budget
    if (budget !== undefined) {
      const need = ramBytes(d, 1, ctx.recordBytes * p.readingsPerMessage)
      if (need > budget.ramBytes) {
        violation(
          d,
          `buffering record ${String((d.buffer?.length ?? 0) + 1)} needs ${String(need)} bytes of RAM`,
          now,
        )
        counters.add('recordsDropped')
        continue
      }
      if (need > d.ramPeakBytes) d.ramPeakBytes = need
    }
    const buffer = (d.buffer ??= [])
    if (buffer.length >= cap) {
      buffer.shift()
      counters.recordsBuffered--
      counters.add('recordsDropped')
      if (d.lastError?.code !== 'BUFFER_FULL')
        d.recordError(
          'BUFFER_FULL',
          `the offline buffer holds ${String(cap)} records; the oldest was dropped`,
          now,
        )
    }
    buffer.push(record)
    counters.recordsBuffered++
  }
}

/** Sends what was buffered while offline, in batches, as far as the in-flight window allows. */
export function flushBuffer(d: SimDevice, now: number): void {
  const counters = d.ctx.counters
  while (d.buffer !== null && d.buffer.length > 0 && d.link.canPublish) {
    const batch = d.buffer.splice(0, flushBatchRecords)
    counters.recordsBuffered -= batch.length
    if (!sendRecords(d, batch, now)) {
      d.buffer.unshift(...batch)
      counters.recordsBuffered += batch.length
      return
    }
  }
  if (d.buffer?.length === 0) d.buffer = null
}

/**
 * Publishes a JSON message at QoS 1 under the device's namespace (`suffix` after
 * `strata/v1/devices/{id}/`, or a full topic with `absolute`), or keeps it until connected.
 */
export function publishControl(
  d: SimDevice,
  suffix: string,
  body: unknown,
  options: { absolute?: boolean; properties?: PublishProperties } = {},
): void {
  const topic = options.absolute === true ? suffix : `strata/v1/devices/${d.id}/${suffix}`
  const message: OutMessage = {
    topic,
    payload: Buffer.from(JSON.stringify(body)),
    ...(options.properties === undefined ? {} : { properties: options.properties }),
  }
  if (d.outbox === null && send(d, message)) return
  const outbox = (d.outbox ??= [])
  if (outbox.length >= maxOutbox) outbox.shift()
  outbox.push(message)
}

/** Sends queued non-telemetry messages, oldest first, while the link takes them. */
export function flushOutbox(d: SimDevice): void {
  const outbox = d.outbox
  if (outbox === null) return
  while (outbox.length > 0 && send(d, outbox[0] as OutMessage)) outbox.shift()
  if (outbox.length === 0) d.outbox = null
}

function send(d: SimDevice, m: OutMessage): boolean {
  if (!d.link.canPublish) return false
  if (d.link.publish(m.topic, m.payload, 1, m.properties) < 0) return false
  d.messagesSent++
  d.ctx.counters.add('messagesSent')
  d.ctx.counters.unacked++
  return true
}
