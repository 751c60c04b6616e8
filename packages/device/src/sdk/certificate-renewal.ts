import { randomUUID } from 'node:crypto'
import { DeviceError } from '../errors.js'
import { createKeyAndCsr } from '../identity/device-key.js'
import { cloudMessageInvalid, decodeCloudPayload } from './cloud-payload.js'
import type { DeviceIdentity } from './device-identity.js'
import type { Outbox } from './outbox.js'

export interface CertificateRenewalDeps {
  readonly deviceId: string
  readonly connection: {
    subscribe(filter: string): Promise<void>
    unsubscribe(filter: string): Promise<void>
  }
  readonly outbox: Outbox
  readonly topics: { readonly request: string; readonly response: string }
  readonly warn: (error: DeviceError) => void
}

interface Pending {
  resolve(reply: { certificate: string; caChain: string[] }): void
  reject(err: Error): void
}

/**
 * Certificate renewal over the device's own connection (docs/protocol.md §6.6): a new key and
 * CSR, published to `certificate/request` with a request id, answered on `certificate/response`.
 */
export class CertificateRenewal {
  readonly #d: CertificateRenewalDeps
  readonly #pending = new Map<string, Pending>()

  constructor(deps: CertificateRenewalDeps) {
    this.#d = deps
  }

  async renew(timeoutMs: number): Promise<DeviceIdentity> {
    const { keyPem, csrPem } = await createKeyAndCsr(this.#d.deviceId)
    const requestId = randomUUID()
    await this.#d.connection.subscribe(this.#d.topics.response)
    let timer: NodeJS.Timeout | undefined
    try {
      const reply = await new Promise<{ certificate: string; caChain: string[] }>(
        (resolve, reject) => {
          this.#pending.set(requestId, { resolve, reject })
          timer = setTimeout(
            () =>
              reject(
                new DeviceError(
                  'DEVICE_TIMEOUT',
                  `no renewed certificate within ${String(timeoutMs)} ms`,
                  {
                    hint: 'The device may be offline, or the broker does not serve renewals; retry later.',
                    retryable: true,
                  },
                ),
              ),
            timeoutMs,
          )
          this.#d.outbox
            .publish(this.#d.topics.request, { csr: csrPem, requestId })
            .catch((err: unknown) => reject(err instanceof Error ? err : new Error(String(err))))
        },
      )
      return {
        deviceId: this.#d.deviceId,
        certificatePem: reply.certificate,
        privateKeyPem: keyPem,
        caChainPem: reply.caChain.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join(''),
      }
    } finally {
      clearTimeout(timer)
      this.#pending.delete(requestId)
      await this.#d.connection.unsubscribe(this.#d.topics.response)
    }
  }

  /** A message on `certificate/response`. */
  handle(topic: string, payload: Uint8Array): void {
    let body: Record<string, unknown>
    try {
      body = decodeCloudPayload(payload, topic) as Record<string, unknown>
    } catch (err) {
      if (err instanceof DeviceError) this.#d.warn(err)
      return
    }
    const requestId = body['requestId']
    const pending = typeof requestId === 'string' ? this.#pending.get(requestId) : undefined
    if (pending === undefined) return
    const error = body['error'] as { code?: unknown; message?: unknown } | undefined
    if (
      body['status'] === 'ok' &&
      typeof body['certificate'] === 'string' &&
      Array.isArray(body['caChain'])
    ) {
      pending.resolve({ certificate: body['certificate'], caChain: body['caChain'].map(String) })
    } else if (body['status'] === 'error' && error !== undefined) {
      pending.reject(
        new DeviceError(
          'DEVICE_PROVISIONING_FAILED',
          `certificate renewal refused: ${String(error.code)}: ${String(error.message)}`,
          {
            hint: 'Check that the device is active and its certificate not revoked; the code says why.',
          },
        ),
      )
    } else {
      pending.reject(
        cloudMessageInvalid(
          topic,
          'a renewal reply needs status ok with certificate and caChain, or status error',
        ),
      )
    }
  }
}
