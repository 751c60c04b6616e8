import { fileURLToPath } from 'node:url'
import Postgrator from 'postgrator'
import type { Database } from './database.js'

/** packages/tsdb/migrations, from src/postgres or dist/postgres alike. */
const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url))

/**
 * Creates the store's schema when missing and brings it to the newest version, holding a
 * session advisory lock on the schema meanwhile: stores opening the same schema at once wait
 * for each other, and the first one migrates. Returns the schema version.
 */
export async function migrate(db: Database): Promise<number> {
  return db.withClient(async (client) => {
    const lock = [`${db.schema}/migrate`]
    await client.query('SELECT pg_advisory_lock(hashtext($1), 0)', lock)
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.schema}`)
      const postgrator = new Postgrator({
        driver: 'pg',
        migrationPattern: `${migrationsDir}*.sql`,
        schemaTable: `${db.schema}.schemaversion`,
        currentSchema: db.schema,
        execQuery: (sql) => client.query(sql),
      })
      await postgrator.migrate()
      return await postgrator.getDatabaseVersion()
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1), 0)', lock)
    }
  })
}
