import { decoder, FirmwareProgress } from '@strata/protocol'
import { DeviceError } from '../errors.js'
import { cloudMessageInvalid, decodeCloudPayload } from './cloud-payload.js'
import type { Outbox } from './outbox.js'
import { errorMessage } from './twin-client.js'

/** A `firmware/progress` report (docs/protocol.md §6.4). */
export type FirmwareProgressReport = FirmwareProgress

/** Called with each offer the cloud publishes on `firmware/offer`, decoded but not yet verified. */
export type FirmwareOfferHandler = (offer: unknown) => void | Promise<void>

/**
 * `client.firmware`: the seam the OTA agent plugs into. The SDK delivers offers as they arrive
 * and publishes progress; verifying the signed manifest, downloading and installing are the OTA
 * agent's (docs/protocol.md §6.4, formats/firmware-manifest.md).
 */
export interface FirmwareApi {
  /** Adds an offer handler; returns a function that removes it. */
  onOffer(handler: FirmwareOfferHandler): () => void
  /** Publishes a `firmware/progress` report; resolves on PUBACK. */
  reportProgress(progress: FirmwareProgressReport): Promise<void>
  /** Asks the cloud to publish the pending offer again (`firmware/get`). */
  requestOffer(): Promise<void>
}

export interface FirmwareClientDeps {
  readonly outbox: Outbox
  readonly topics: { readonly progress: string; readonly get: string }
  readonly warn: (error: DeviceError) => void
}

const decodeProgress = decoder(FirmwareProgress)

export class FirmwareClient implements FirmwareApi {
  readonly #d: FirmwareClientDeps
  readonly #handlers = new Set<FirmwareOfferHandler>()

  constructor(deps: FirmwareClientDeps) {
    this.#d = deps
  }

  onOffer(handler: FirmwareOfferHandler): () => void {
    this.#handlers.add(handler)
    return () => this.#handlers.delete(handler)
  }

  async reportProgress(progress: FirmwareProgressReport): Promise<void> {
    let checked: FirmwareProgress
    try {
      checked = decodeProgress(progress, 'firmware progress')
    } catch (err) {
      throw new DeviceError('DEVICE_MESSAGE_INVALID', errorMessage(err), {
        hint: 'A progress report needs a state (offered, downloading, …) and optional offerId, version, percent 0–100, error.',
        cause: err,
      })
    }
    await this.#d.outbox.publish(this.#d.topics.progress, checked)
  }

  async requestOffer(): Promise<void> {
    await this.#d.outbox.publish(this.#d.topics.get, {})
  }

  /** A message on `firmware/offer`. */
  handle(topic: string, payload: Uint8Array): void {
    let offer: unknown
    try {
      offer = decodeCloudPayload(payload, topic)
    } catch (err) {
      this.#d.warn(
        err instanceof DeviceError ? err : cloudMessageInvalid(topic, errorMessage(err), err),
      )
      return
    }
    for (const handler of [...this.#handlers]) {
      const failed = (err: unknown) =>
        this.#d.warn(
          new DeviceError(
            'DEVICE_HANDLER_FAILED',
            `a firmware offer handler failed: ${errorMessage(err)}`,
            {
              hint: 'Handle errors inside firmware.onOffer handlers and report them with reportProgress.',
              cause: err,
            },
          ),
        )
      try {
        Promise.resolve(handler(offer)).catch(failed)
      } catch (err) {
        failed(err)
      }
    }
  }
}
