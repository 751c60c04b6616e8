import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import Database from 'better-sqlite3'
import { entry, message, meta } from '../../test/store/session-store.harness.js'
import { openSqliteSessionStore, type SqliteSessionStore } from './sqlite-session-store.js'

let dir = ''
let files = 0
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-sqlite-store-'))
})
after(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

function newFile(): string {
  return path.join(dir, `s${String(files++)}.db`)
}

function open(t: TestContext, file = newFile()): SqliteSessionStore {
  const store = openSqliteSessionStore({ path: file })
  t.after(() => store.close())
  return store
}

/** Runs a query on a closed store's file. */
function query(file: string, sql: string): unknown {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare(sql).pluck().get()
  } finally {
    db.close()
  }
}

describe('SqliteSessionStore group commit', () => {
  it('commits every write of one event-loop turn in one transaction', async (t) => {
    const store = open(t)
    store.upsertSession(meta('c'))
    const flushes = []
    for (let seq = 1; seq <= 100; seq++) {
      store.putOutgoing('c', entry(seq, message('a')))
      flushes.push(store.flush())
    }
    await Promise.all(flushes)
    assert.equal(store.stats().commits, 1)
    assert.equal((await store.load()).sessions[0]?.outgoing.length, 100)
  })

  it('resolves flush only after the commit ran', async (t) => {
    const store = open(t)
    store.upsertSession(meta('c'))
    let done = false
    const flushed = store.flush().then(() => (done = true))
    await Promise.resolve()
    assert.equal(done, false)
    assert.equal(store.stats().commits, 0)
    await flushed
    assert.equal(store.stats().commits, 1)
  })

  it('does not touch the file for a put and delete of the same key in one batch', async (t) => {
    const store = open(t)
    store.upsertSession(meta('c'))
    await store.flush()
    for (let seq = 1; seq <= 1000; seq++) {
      store.putOutgoing('c', entry(seq, message('a')))
      store.putIncomingQos2('c', seq)
      store.deleteOutgoing('c', seq)
      store.deleteIncomingQos2('c', seq)
    }
    await store.flush()
    assert.deepEqual(store.stats().commits, 1)
    assert.equal(store.stats().cancelledWrites, 4000)
  })

  it('does not touch the file for a session created and deleted in one batch', async (t) => {
    const store = open(t)
    store.upsertSession(meta('c'))
    store.putOutgoing('c', entry(1, message('a')))
    store.deleteSession('c')
    await store.flush()
    assert.equal(store.stats().commits, 0)
  })

  it('drops a batch SQLite refuses, rejects its flush, and keeps working', async (t) => {
    const store = open(t)
    store.upsertSession(meta('ok'))
    await store.flush()
    store.upsertSession(meta('bad'))
    store.putOutgoing('bad', entry(1.5, message('a'))) // STRICT: seq must be an integer
    await assert.rejects(store.flush(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'MQTT_STORE_IO')
      assert.match(err.message, /s\d+\.db: committing failed: SQLITE_CONSTRAINT_DATATYPE/)
      return true
    })
    assert.throws(() => store.putOutgoing('bad', entry(2, message('a'))), {
      code: 'MQTT_STORE_NO_SESSION',
    })
    store.putOutgoing('ok', entry(1, message('a')))
    const { sessions } = await store.load()
    assert.deepEqual(
      sessions.map((s) => [s.clientId, s.outgoing.length]),
      [['ok', 1]],
    )
  })
})

describe('SqliteSessionStore messages table', () => {
  it('deletes a message when its last outgoing, retained or will reference goes', async (t) => {
    const file = newFile()
    let store = openSqliteSessionStore({ path: file })
    const shared = message('shared')
    store.upsertSession(meta('a', { will: { message: message('will/1'), publishAtMs: 1 } }))
    store.upsertSession(meta('b'))
    store.putOutgoing('a', entry(1, shared))
    store.putOutgoing('b', entry(1, shared))
    store.putRetained(message('r'))
    await store.close()
    assert.equal(query(file, 'SELECT count(*) FROM messages'), 3)

    store = openSqliteSessionStore({ path: file })
    t.after(() => store.close())
    store.deleteOutgoing('a', 1)
    store.upsertSession(meta('a', { will: { message: message('will/2'), publishAtMs: 1 } }))
    store.putRetained(message('r'))
    await store.close()
    assert.equal(query(file, 'SELECT count(*) FROM messages'), 3, 'shared, will/2, new r')
    assert.equal(query(file, "SELECT count(*) FROM messages WHERE topic = 'will/1'"), 0)
  })

  it('reuses the row of a loaded message written again after a restart', async (t) => {
    const file = newFile()
    let store = openSqliteSessionStore({ path: file })
    store.upsertSession(meta('a'))
    store.putRetained(message('r'))
    await store.close()
    store = openSqliteSessionStore({ path: file })
    t.after(() => store.close())
    const { retained } = await store.load()
    store.putOutgoing('a', entry(1, retained[0]!))
    await store.close()
    assert.equal(query(file, 'SELECT count(*) FROM messages'), 1)
  })

  it('writes the same message object again after a commit dropped its row', async (t) => {
    const file = newFile()
    const store = open(t, file)
    const m = message('a')
    store.upsertSession(meta('c'))
    store.putOutgoing('c', entry(1, m))
    await store.flush()
    store.deleteOutgoing('c', 1)
    await store.flush()
    store.putOutgoing('c', entry(2, m))
    assert.deepEqual((await store.load()).sessions[0]?.outgoing, [entry(2, m)])
  })

  it('round-trips fractional timestamps from a high-resolution clock', async (t) => {
    const store = open(t)
    const m = message('a', { createdAtMs: 1_700_000_000_000.25, expiresAtMs: 1.5 })
    store.upsertSession(
      meta('c', { disconnectedAtMs: 0.125, will: { message: m, publishAtMs: 2.5 } }),
    )
    store.putOutgoing('c', entry(1, m))
    const [s] = (await store.load()).sessions
    assert.deepEqual(s?.will, { message: m, publishAtMs: 2.5 })
    assert.equal(s.disconnectedAtMs, 0.125)
  })
})

describe('openSqliteSessionStore', () => {
  it('refuses a file another process or store holds, naming the path', (t) => {
    const file = newFile()
    open(t, file)
    assert.throws(
      () => openSqliteSessionStore({ path: file }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'MQTT_STORE_IO')
        assert.ok(err.message.includes(file), err.message)
        return true
      },
    )
  })

  it('refuses a directory that does not exist as an I/O error', () => {
    const file = path.join(dir, 'missing', 'x.db')
    assert.throws(() => openSqliteSessionStore({ path: file }), { code: 'MQTT_STORE_IO' })
  })

  it('refuses another application’s SQLite file and leaves it alone', () => {
    const file = newFile()
    const db = new Database(file)
    db.exec('CREATE TABLE notes (body TEXT)')
    db.close()
    const before = fs.readFileSync(file)
    assert.throws(() => openSqliteSessionStore({ path: file }), {
      code: 'MQTT_STORE_CORRUPT',
      message: `session store ${file} is an SQLite database but not a session store`,
    })
    assert.deepEqual(fs.readFileSync(file), before)
  })

  it('refuses a file from a newer schema, hinting at the version', async () => {
    const file = newFile()
    await openSqliteSessionStore({ path: file, synchronous: 'full' }).close()
    const db = new Database(file)
    db.pragma('user_version = 2')
    db.close()
    assert.throws(() => openSqliteSessionStore({ path: file }), {
      code: 'MQTT_STORE_CORRUPT',
      message: `session store ${file} has schema version 2; this build knows up to 1`,
      hint: 'Run the Strata version that wrote the file, or move the file aside to start empty.',
    })
  })

  it('times commits with the injected clock', async (t) => {
    let now = 0
    const store = openSqliteSessionStore({ path: newFile(), clock: () => (now += 7) })
    t.after(() => store.close())
    store.upsertSession(meta('c'))
    await store.flush()
    assert.equal(store.stats().lastCommitMs, 7)
  })
})
