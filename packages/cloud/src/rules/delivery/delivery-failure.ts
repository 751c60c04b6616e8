import { isStrataError } from '@strata/protocol'
import { CloudError } from '../../errors.js'

/** What the outbox records about the last failed attempt of a message. */
export interface DeliveryErrorRecord {
  readonly code: string
  readonly message: string
  /** The HTTP status a webhook answered, when it answered. */
  readonly status?: number
}

/**
 * A failed attempt: `retryable` failures are retried with backoff (and pause the target for a
 * while), the others dead-letter the message at once. `retryAfterMs` is a receiver's
 * `Retry-After`, honoured up to the outbox's cap.
 */
export function deliveryFailed(
  message: string,
  options: {
    readonly retryable: boolean
    readonly retryAfterMs?: number | undefined
    readonly status?: number
    readonly cause?: unknown
  },
): CloudError {
  return new CloudError('CLOUD_DELIVERY_FAILED', message, {
    retryable: options.retryable,
    hint: options.retryable
      ? 'Nothing to do if the receiver recovers: the delivery is retried with backoff.'
      : 'Fix the receiver or the target, then retry the dead letter.',
    details: {
      ...(options.status === undefined ? {} : { status: options.status }),
      ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
    },
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  })
}

/**
 * Any error a sender threw, as a delivery failure: Strata errors keep their code and
 * `retryable`; an address the policy forbids is permanent; anything else (a socket error, a
 * broker that closed the channel, a timeout) is retryable.
 */
export function asDeliveryFailure(err: unknown): CloudError {
  if (err instanceof CloudError) return err
  if (isStrataError(err)) {
    return new CloudError('CLOUD_DELIVERY_FAILED', err.message, {
      retryable: err.retryable,
      cause: err,
    })
  }
  return deliveryFailed(describeError(err), { retryable: true, cause: err })
}

/** The record of a failure, for the outbox row and the dead letter. */
export function errorRecordOf(err: CloudError): DeliveryErrorRecord {
  const status = err.details['status']
  return {
    code: err.code,
    message: err.message,
    ...(typeof status === 'number' ? { status } : {}),
  }
}

/** The `Retry-After` a failure carries, in ms, if any. */
export function retryAfterOf(err: CloudError): number | undefined {
  const value = err.details['retryAfterMs']
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}

/** A one-line description of an error and its cause's code (ECONNREFUSED…). */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const causeMessage = typeof cause?.message === 'string' ? cause.message : undefined
  const extra = code ?? causeMessage
  return extra === undefined || err.message.includes(extra)
    ? err.message
    : `${err.message} (${extra})`
}

/**
 * Settles like `promise`, or rejects when `signal` aborts first (the promise's own outcome is
 * then ignored). For broker calls that take no signal of their own.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined)
    return Promise.reject(abortFailure(signal, what))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortFailure(signal, what))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}

function abortFailure(signal: AbortSignal, what: string): CloudError {
  const reason = signal.reason as { name?: unknown } | undefined
  const timedOut = reason?.name === 'TimeoutError'
  return deliveryFailed(timedOut ? `${what} timed out` : `${what} was aborted`, {
    retryable: true,
    cause: signal.reason,
  })
}
