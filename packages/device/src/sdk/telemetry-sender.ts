import {
  encodeTelemetry,
  isStrataError,
  normalizeTelemetry,
  telemetryLimits,
  type TelemetryRecord,
  type TelemetryValues,
} from '@strata/protocol'
import type { Logger } from 'pino'
import { DeviceError } from '../errors.js'
import { backoffDelayMs, type BackoffOptions } from '../shared/backoff.js'
import type { PublishResult } from './device-connection.js'
import { isRetryablePuback } from './reason-codes.js'
import { RecordQueue } from './record-queue.js'

/** What `telemetry.send` accepts: the shapes of docs/protocol.md §5.1. */
export type TelemetryInput =
  TelemetryValues | TelemetryRecord | readonly (TelemetryValues | TelemetryRecord)[]

/** A telemetry message the broker refused (PUBACK ≥ 0x80); its records are dropped. */
export interface TelemetryRefusal {
  readonly topic: string
  readonly reasonCode: number
  /** The broker's reason string, e.g. `PROTOCOL_INVALID: /values/temp must be …`. */
  readonly reason: string
  readonly records: number
}

/** Counters of the telemetry path since the client was created. */
export interface TelemetryStats {
  /** Waiting to be sent (offline, or for their batch). */
  readonly queued: number
  /** Sent, not yet acknowledged. */
  readonly inFlight: number
  /** Acknowledged by the broker. */
  readonly acknowledged: number
  /** Dropped because the buffer was full (oldest first). */
  readonly dropped: number
  /** Refused by the broker and dropped. */
  readonly refused: number
}

/** The part of the connection the sender uses. */
export interface Publisher {
  readonly isOnline: boolean
  publish(topic: string, payload: Uint8Array, options: { qos: 1 }): Promise<PublishResult>
}

export interface TelemetrySenderOptions {
  readonly topic: string
  readonly format: 'json' | 'cbor'
  readonly batchMaxRecords: number
  readonly batchMaxDelayMs: number
  readonly bufferMaxRecords: number
  readonly backoff: BackoffOptions
}

export interface TelemetrySenderDeps {
  readonly publisher: Publisher
  readonly clock: () => number
  readonly random: () => number
  readonly log: Logger
  readonly onRefused: (refusal: TelemetryRefusal) => void
  readonly onDropped: (records: number) => void
}

interface FlushWaiter {
  resolve(): void
  reject(err: Error): void
}

/**
 * Batches telemetry records into QoS 1 messages, one at a time in order: a batch leaves when it
 * holds `batchMaxRecords` or its first record waited `batchMaxDelayMs`. Offline, records wait in a
 * bounded queue (drop-oldest) and go out on reconnect, oldest first. A refused batch is reported and
 * dropped, except 0x97 quota exceeded (and 0x89 busy), which is retried after a backoff.
 */
export class TelemetrySender {
  readonly #o: TelemetrySenderOptions
  readonly #d: TelemetrySenderDeps
  readonly #queue: RecordQueue
  #inFlight: TelemetryRecord[] | undefined
  #batchTimer: NodeJS.Timeout | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #retries = 0
  #due = false
  #closed: DeviceError | undefined
  readonly #waiters = new Set<FlushWaiter>()
  #acknowledged = 0
  #dropped = 0
  #refused = 0

  constructor(options: TelemetrySenderOptions, deps: TelemetrySenderDeps) {
    this.#o = options
    this.#d = deps
    this.#queue = new RecordQueue(options.bufferMaxRecords)
  }

  get stats(): TelemetryStats {
    return {
      queued: this.#queue.length,
      inFlight: this.#inFlight?.length ?? 0,
      acknowledged: this.#acknowledged,
      dropped: this.#dropped,
      refused: this.#refused,
    }
  }

  /** Validates and queues; records without a time are stamped now, so buffered ones keep theirs. */
  send(input: TelemetryInput): void {
    if (this.#closed !== undefined) throw this.#closed
    const records = this.#normalize(input)
    const dropped = this.#queue.push(records)
    if (dropped > 0) this.#drop(dropped)
    this.#pump()
  }

  /** Resolves once every record queued so far was acknowledged (or refused). */
  flush(timeoutMs?: number): Promise<void> {
    if (this.#idle) return Promise.resolve()
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const waiter: FlushWaiter = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      }
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#waiters.delete(waiter)
          const { queued, inFlight } = this.stats
          reject(
            new DeviceError(
              'DEVICE_TIMEOUT',
              `flush timed out after ${String(timeoutMs)} ms with ${String(queued + inFlight)} records unacknowledged`,
              { hint: 'The device is offline or the broker is slow; the records stay queued.' },
            ),
          )
        }, timeoutMs)
        timer.unref()
      }
      this.#waiters.add(waiter)
      this.#pump()
    })
  }

  /** The connection came up: what waited goes out now. */
  online(): void {
    this.#due = this.#queue.length > 0
    this.#pump()
  }

  /**
   * Stops sending; pending flushes reject with `error` (default `DEVICE_CLIENT_CLOSED`), as do
   * later sends. Returns how many records were never acknowledged.
   */
  close(error: DeviceError = closedError()): number {
    this.#closed ??= error
    clearTimeout(this.#batchTimer)
    clearTimeout(this.#retryTimer)
    const err = this.#closed
    for (const w of [...this.#waiters]) w.reject(err)
    this.#waiters.clear()
    return this.#queue.length + (this.#inFlight?.length ?? 0)
  }

  get #idle(): boolean {
    return this.#queue.length === 0 && this.#inFlight === undefined
  }

  #normalize(input: TelemetryInput): TelemetryRecord[] {
    let records: TelemetryRecord[]
    try {
      records = normalizeTelemetry(input)
    } catch (err) {
      if (!isStrataError(err)) throw err
      throw new DeviceError('DEVICE_MESSAGE_INVALID', err.message, {
        hint: err.hint ?? 'Send {temp: 21.5}, {ts, values, tags?} or an array of them.',
        cause: err,
      })
    }
    const now = this.#d.clock()
    return records.map((r) => {
      if (this.#o.format === 'json') rejectBigInt(r)
      return r.ts === undefined ? { ...r, ts: now } : r
    })
  }

  #pump(): void {
    if (
      this.#closed !== undefined ||
      this.#inFlight !== undefined ||
      this.#retryTimer !== undefined
    )
      return
    if (this.#queue.length === 0) {
      this.#due = false
      for (const w of [...this.#waiters]) w.resolve()
      this.#waiters.clear()
      return
    }
    if (!this.#d.publisher.isOnline) return
    if (this.#queue.length >= this.#o.batchMaxRecords || this.#due || this.#waiters.size > 0) {
      clearTimeout(this.#batchTimer)
      this.#batchTimer = undefined
      this.#sendBatch(this.#o.batchMaxRecords)
      return
    }
    if (this.#batchTimer === undefined) {
      this.#batchTimer = setTimeout(() => {
        this.#batchTimer = undefined
        this.#due = true
        this.#pump()
      }, this.#o.batchMaxDelayMs)
      this.#batchTimer.unref()
    }
  }

  #sendBatch(max: number): void {
    let batch = this.#queue.take(max)
    let payload = encodeTelemetry(batch, this.#o.format)
    // Halve until the message fits the protocol's limit; a single record that cannot fit is refused here.
    while (payload.length > telemetryLimits.maxBytes && batch.length > 1) {
      const keep = Math.ceil(batch.length / 2)
      this.#queue.unshift(batch.slice(keep))
      batch = batch.slice(0, keep)
      payload = encodeTelemetry(batch, this.#o.format)
    }
    if (payload.length > telemetryLimits.maxBytes) {
      this.#refuse(
        0x95,
        `a record encodes to ${String(payload.length)} bytes, over the ${String(telemetryLimits.maxBytes)}-byte limit`,
        1,
      )
      this.#pump()
      return
    }
    this.#inFlight = batch
    this.#d.log.debug({ records: batch.length, bytes: payload.length }, 'telemetry batch')
    this.#d.publisher.publish(this.#o.topic, payload, { qos: 1 }).then(
      (ack) => this.#acked(batch, ack),
      () => {
        // Only a closed connection rejects; the records are counted as unacknowledged by close().
      },
    )
  }

  #acked(batch: TelemetryRecord[], ack: PublishResult): void {
    this.#inFlight = undefined
    if (this.#closed !== undefined) return
    if (ack.reasonCode < 0x80) {
      this.#acknowledged += batch.length
      this.#retries = 0
    } else if (isRetryablePuback(ack.reasonCode)) {
      const dropped = this.#queue.unshift(batch)
      if (dropped > 0) this.#drop(dropped)
      const delay = backoffDelayMs(this.#retries, this.#o.backoff, this.#d.random)
      this.#retries += 1
      this.#d.log.warn({ reasonCode: ack.reasonCode, retryInMs: delay }, 'telemetry rate-limited')
      this.#due = true
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined
        this.#pump()
      }, delay)
      this.#retryTimer.unref()
      return
    } else {
      this.#refuse(ack.reasonCode, ack.reason ?? '', batch.length)
    }
    this.#pump()
  }

  #refuse(reasonCode: number, reason: string, records: number): void {
    this.#refused += records
    this.#d.log.warn({ reasonCode, reason, records }, 'telemetry refused')
    this.#d.onRefused({ topic: this.#o.topic, reasonCode, reason, records })
  }

  #drop(records: number): void {
    this.#dropped += records
    this.#d.onDropped(records)
  }
}

function rejectBigInt(record: TelemetryRecord): void {
  for (const [name, value] of Object.entries(record.values)) {
    if (typeof value === 'bigint') {
      throw new DeviceError(
        'DEVICE_MESSAGE_INVALID',
        `telemetry value ${name} is an int64 (bigint), which JSON cannot carry`,
        {
          hint: "Create the client with format: 'cbor', or send the value as a number.",
        },
      )
    }
  }
}

function closedError(): DeviceError {
  return new DeviceError(
    'DEVICE_CLIENT_CLOSED',
    'the device client closed before the telemetry was acknowledged',
    {
      hint: 'Call flush() before close(), or give close() more time (closeTimeoutMs).',
    },
  )
}
