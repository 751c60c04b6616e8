/**
 * Session stores: where persistent MQTT sessions and retained messages live between connections
 * and restarts. `openSqliteSessionStore` for brokers that must survive a restart,
 * `createMemorySessionStore` for the rest and for tests.
 */
export type { OutgoingEntry, SessionMeta, SessionStore, StoredSession } from './session-store.js'
export { createMemorySessionStore } from './memory-session-store.js'
export {
  openSqliteSessionStore,
  SqliteSessionStore,
  type SqliteSessionStoreOptions,
  type SqliteSessionStoreStats,
} from './sqlite-session-store.js'
export type { Synchronous } from './sqlite-schema.js'
export { StoreError, storeErrorCodes, type StoreErrorCode } from './store-error.js'
