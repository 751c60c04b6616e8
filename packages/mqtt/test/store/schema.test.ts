// The on-disk schema is a format: a change to it must change this golden file and add a migration.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { it } from 'node:test'
import Database from 'better-sqlite3'
import type { BrokerMessage } from '../../src/message.js'
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

it('loads a message whose User Properties an older build stored keyed by name', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-store-old-props-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'sessions.db')
  const retained: BrokerMessage = {
    topic: 'r/t',
    payload: new Uint8Array([1]),
    qos: 1,
    retain: true,
    properties: { userProperties: [['site', 'north']] },
    createdAtMs: 1_700_000_000_000,
  }
  const store = openSqliteSessionStore({ path: file })
  store.putRetained(retained)
  await store.close()
  // What the broker wrote before the properties column gained userPropertyList.
  const db = new Database(file)
  db.prepare('UPDATE messages SET properties = ?').run(
    '{"contentType":"text/plain","userProperties":{"site":"north","tag":["a","b"]}}',
  )
  db.close()
  const reopened = openSqliteSessionStore({ path: file })
  t.after(() => reopened.close())
  const loaded = await reopened.load()
  assert.deepEqual(loaded.retained[0]?.properties, {
    contentType: 'text/plain',
    userProperties: [
      ['site', 'north'],
      ['tag', 'a'],
      ['tag', 'b'],
    ],
  })
})
