import {
  decoder,
  isStrataError,
  TwinDesiredDelta,
  TwinDocument,
  TwinRejected,
  TwinReportedPatch,
  type TopicKind,
} from '@strata/protocol'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { DeviceError } from '../errors.js'
import { cloudMessageInvalid, decodeCloudPayload } from './cloud-payload.js'
import { mergeDocument, type JsonObject } from '@strata/protocol'
import type { Outbox } from './outbox.js'

/** A change of the desired state, as `twin.onDesired` handlers get it. */
export interface DesiredChange {
  /** The twin version after the change. */
  readonly version: number
  /** What changed: a JSON merge patch (`null` = deleted). */
  readonly delta: JsonObject
  /** The whole desired state with the delta applied (the SDK's local copy). */
  readonly desired: JsonObject
}

/** Called for each desired-state change; may be async. An error it throws becomes a `warning`. */
export type DesiredHandler = (change: DesiredChange) => void | Promise<void>

/** The whole twin, as `twin.get()` resolves it. */
export interface TwinSnapshot {
  readonly version: number
  readonly desired: JsonObject
  readonly reported: JsonObject
}

/** `client.twin`: report state, read the whole twin, follow desired changes. */
export interface TwinApi {
  /** Publishes a merge patch of the reported state (`null` deletes); resolves on PUBACK. */
  report(patch: Record<string, unknown>): Promise<void>
  /** Asks the cloud for the whole twin; rejects on `twin/rejected` or after `requestTimeoutMs`. */
  get(): Promise<TwinSnapshot>
  /** Adds a handler of desired changes; returns a function that removes it. */
  onDesired(handler: DesiredHandler): () => void
  /** The local copy of the desired state (merge patches applied as they arrive). */
  readonly desired: JsonObject
  /** The local copy of the reported state (the device's own patches applied). */
  readonly reported: JsonObject
  /** The last twin version heard from the cloud; undefined before the first. */
  readonly version: number | undefined
}

export interface TwinClientDeps {
  readonly outbox: Outbox
  readonly topics: { readonly reported: string; readonly get: string }
  readonly requestTimeoutMs: number
  readonly log: Logger
  readonly warn: (error: DeviceError) => void
}

interface PendingGet {
  resolve(snapshot: TwinSnapshot): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

const decodePatch = decoder(TwinReportedPatch)
const decodeDelta = decoder(TwinDesiredDelta)
const decodeDocument = decoder(TwinDocument)
const decodeRejected = decoder(TwinRejected)

/** The device side of the twin (docs/protocol.md §6.2). */
export class TwinClient implements TwinApi {
  readonly #d: TwinClientDeps
  #desired: JsonObject = {}
  #reported: JsonObject = {}
  #version: number | undefined
  readonly #handlers = new Set<DesiredHandler>()
  readonly #gets = new Map<string, PendingGet>()

  constructor(deps: TwinClientDeps) {
    this.#d = deps
  }

  get desired(): JsonObject {
    return this.#desired
  }

  get reported(): JsonObject {
    return this.#reported
  }

  get version(): number | undefined {
    return this.#version
  }

  async report(patch: Record<string, unknown>): Promise<void> {
    let checked: JsonObject
    try {
      checked = decodePatch(patch, 'twin patch')
    } catch (err) {
      throw invalid(err)
    }
    this.#reported = mergeDocument(this.#reported, checked)
    await this.#d.outbox.publish(this.#d.topics.reported, checked)
  }

  get(): Promise<TwinSnapshot> {
    const requestId = randomUUID()
    return new Promise<TwinSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#gets.delete(requestId)
        reject(
          new DeviceError(
            'DEVICE_TIMEOUT',
            `no twin document within ${String(this.#d.requestTimeoutMs)} ms`,
            {
              hint: 'The device may be offline, or the cloud does not serve twins yet; retry later.',
              retryable: true,
            },
          ),
        )
      }, this.#d.requestTimeoutMs)
      timer.unref()
      this.#gets.set(requestId, { resolve, reject, timer })
      this.#d.outbox.publish(this.#d.topics.get, { requestId }).catch((err: unknown) => {
        this.#settle(requestId)?.reject(err instanceof Error ? err : new Error(String(err)))
      })
    })
  }

  onDesired(handler: DesiredHandler): () => void {
    this.#handlers.add(handler)
    return () => this.#handlers.delete(handler)
  }

  /** A message on one of the twin's cloud topics. */
  handle(kind: TopicKind, topic: string, payload: Uint8Array): void {
    try {
      const body = decodeCloudPayload(payload, topic)
      if (kind === 'twin.desired') this.#onDelta(decodeDelta(body, topic))
      else if (kind === 'twin.document') this.#onDocument(decodeDocument(body, topic))
      else if (kind === 'twin.rejected') this.#onRejected(decodeRejected(body, topic))
    } catch (err) {
      this.#d.warn(
        err instanceof DeviceError ? err : cloudMessageInvalid(topic, errorMessage(err), err),
      )
    }
  }

  /** Rejects every pending `get()`. */
  close(error: Error): void {
    for (const id of [...this.#gets.keys()]) this.#settle(id)?.reject(error)
  }

  #onDelta(delta: TwinDesiredDelta): void {
    // The cloud repeats the delta when a device reconnects, and QoS 1 may deliver twice.
    if (this.#version !== undefined && delta.version <= this.#version) {
      this.#d.log.debug(
        { version: delta.version, known: this.#version },
        'desired delta already applied',
      )
      return
    }
    this.#version = delta.version
    this.#desired = mergeDocument(this.#desired, delta.desired)
    const change: DesiredChange = {
      version: delta.version,
      delta: delta.desired,
      desired: this.#desired,
    }
    for (const handler of [...this.#handlers]) {
      try {
        Promise.resolve(handler(change)).catch((err: unknown) => this.#handlerFailed(err))
      } catch (err) {
        this.#handlerFailed(err)
      }
    }
  }

  #onDocument(doc: TwinDocument): void {
    this.#version = doc.version
    this.#desired = doc.desired
    this.#reported = doc.reported
    const snapshot: TwinSnapshot = {
      version: doc.version,
      desired: doc.desired,
      reported: doc.reported,
    }
    if (doc.requestId !== undefined) this.#settle(doc.requestId)?.resolve(snapshot)
  }

  #onRejected(rejected: TwinRejected): void {
    const err = new DeviceError(
      'DEVICE_TWIN_REJECTED',
      `the cloud rejected a twin request: ${rejected.error.code}: ${rejected.error.message}`,
      {
        hint: 'Fix what the message names; a reported patch must be a JSON object of at most 64 KiB.',
        details: { code: rejected.error.code },
      },
    )
    const pending = rejected.requestId === undefined ? undefined : this.#settle(rejected.requestId)
    if (pending === undefined) this.#d.warn(err)
    else pending.reject(err)
  }

  #settle(requestId: string): PendingGet | undefined {
    const pending = this.#gets.get(requestId)
    if (pending === undefined) return undefined
    clearTimeout(pending.timer)
    this.#gets.delete(requestId)
    return pending
  }

  #handlerFailed(err: unknown): void {
    this.#d.warn(
      new DeviceError(
        'DEVICE_HANDLER_FAILED',
        `a desired-state handler failed: ${errorMessage(err)}`,
        {
          hint: 'Handle errors inside twin.onDesired handlers.',
          cause: err,
        },
      ),
    )
  }
}

function invalid(err: unknown): DeviceError {
  if (!isStrataError(err))
    return new DeviceError('DEVICE_MESSAGE_INVALID', errorMessage(err), { cause: err })
  return new DeviceError('DEVICE_MESSAGE_INVALID', err.message, {
    hint: 'A reported patch is a JSON object whose keys are names (A–Z a–z 0–9 . _ -).',
    cause: err,
  })
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
