import { StrataError, type StrataErrorOptions } from '@strata/protocol'

/**
 * Every error code the session stores throw, with what it means. The package's `src/errors.ts`
 * folds these into its registry; `docs/errors.md` lists the same codes.
 *
 * @example
 * if (err instanceof StoreError) log.error({ code: err.code, meaning: storeErrorCodes[err.code] })
 */
export const storeErrorCodes = {
  MQTT_STORE_CORRUPT:
    'The session store file is not a readable session store (not SQLite, damaged, or a schema this build does not know); the message names the path and what failed.',
  MQTT_STORE_IO:
    'Reading or writing the session store file failed (disk full, I/O error, locked by another process); writes of a failed flush are not durable.',
  MQTT_STORE_CLOSED: 'A write or load on a session store after close().',
  MQTT_STORE_NO_SESSION:
    'A subscription, message or packet id written for a client id that has no stored session (upsertSession first).',
} as const

/** One of the session stores' error codes. */
export type StoreErrorCode = keyof typeof storeErrorCodes

/**
 * An error from a session store.
 *
 * @example
 * throw new StoreError('MQTT_STORE_CORRUPT', `${path}: quick_check failed: ${detail}`, {
 *   hint: 'Move the file aside to start with empty sessions.',
 * })
 */
export class StoreError extends StrataError {
  declare readonly code: StoreErrorCode

  constructor(code: StoreErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}

/** The error for a sub-record written to a client id without a session; shared by both stores. */
export function noSessionError(clientId: string, what: string): StoreError {
  return new StoreError(
    'MQTT_STORE_NO_SESSION',
    `${what} for client ${JSON.stringify(clientId)}, which has no stored session`,
    { hint: 'Call upsertSession before writing the parts of a persistent session.' },
  )
}

/** The error for a use after close(); shared by both stores. */
export function closedError(what: string): StoreError {
  return new StoreError('MQTT_STORE_CLOSED', `${what}: the session store is closed`)
}
