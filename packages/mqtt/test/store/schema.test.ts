// The on-disk schema is a format: a change to it must change this golden file and add a migration.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { it } from 'node:test'
import Database from 'better-sqlite3'
import { openSqliteSessionStore } from '../../src/store/index.js'

const golden = new URL('./fixtures/session-store-schema-v1.sql', import.meta.url)

/** The schema of a store file as text: pragmas, then every table and index in name order. */
function dumpSchema(file: string): string {
  const db = new Database(file, { readonly: true })
  try {
    const pragmas = ['user_version', 'application_id', 'journal_mode'].map(
      (p) => `PRAGMA ${p} = ${String(db.pragma(p, { simple: true }))};`,
    )
    const objects = db
      .prepare('SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name')
      .pluck()
      .all()
      .map((sql) => `${String(sql).replace(/\n\s+/g, '\n  ')};`)
    return `${[...pragmas, ...objects].join('\n')}\n`
  } finally {
    db.close()
  }
}

it('creates the schema of the golden file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-store-schema-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'sessions.db')
  await openSqliteSessionStore({ path: file }).close()
  const actual = dumpSchema(file)
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(golden, actual)
  assert.equal(actual, fs.readFileSync(golden, 'utf8'))
})
