import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before } from 'node:test'
import Database from 'better-sqlite3'
import { createMemorySessionStore, openSqliteSessionStore } from '../../src/store/index.js'
import { describeSessionStore } from './session-store.contract.js'

let dir = ''
let files = 0
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-session-store-'))
})
after(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

describeSessionStore('memory', () => ({ open: createMemorySessionStore, persistent: false }))

describeSessionStore('sqlite', () => {
  const file = path.join(dir, `store-${String(files++)}.db`)
  return {
    open: () => openSqliteSessionStore({ path: file }),
    persistent: true,
    messageRows: () => {
      const db = new Database(file, { readonly: true })
      try {
        return db.prepare('SELECT count(*) FROM messages').pluck().get() as number
      } finally {
        db.close()
      }
    },
  }
})
