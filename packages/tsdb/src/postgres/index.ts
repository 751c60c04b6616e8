/** The PostgreSQL engine of the time-series store. */
export { openPostgresStore } from './open-postgres-store.js'
export type { PostgresStoreOptions } from './options.js'
