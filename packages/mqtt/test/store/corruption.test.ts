// A damaged session store file is reported as MQTT_STORE_CORRUPT naming the file: never a crash
// with a raw SQLite error, never an empty store that silently replaces the sessions.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { openSqliteSessionStore, StoreError } from '../../src/store/index.js'
import { entry, message, meta, subscription } from './session-store.harness.js'

let dir = ''
let pristine = ''
let files = 0
const sessions = 20

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-store-corrupt-'))
  pristine = path.join(dir, 'pristine.db')
  const store = openSqliteSessionStore({ path: pristine })
  for (let i = 0; i < sessions; i++) {
    const id = `client-${String(i)}`
    store.upsertSession(meta(id, { identityId: `device:${String(i)}` }))
    store.putSubscription(id, subscription(`devices/${String(i)}/#`))
    for (let seq = 1; seq <= 10; seq++)
      store.putOutgoing(id, entry(seq, message(`t/${id}/${String(seq)}`)))
    store.putIncomingQos2(id, 1)
  }
  await store.close()
})
after(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

/** A copy of the pristine file with `bytes` written at `offset`. */
function damaged(offset: number, bytes: Uint8Array): string {
  const file = path.join(dir, `damaged-${String(files++)}.db`)
  const data = fs.readFileSync(pristine)
  data.set(bytes.subarray(0, Math.max(0, data.length - offset)), offset)
  fs.writeFileSync(file, data)
  return file
}

/** Opens and loads; returns the StoreError, or the number of outgoing entries loaded. */
async function openAndLoad(file: string): Promise<StoreError | number> {
  try {
    const store = openSqliteSessionStore({ path: file })
    try {
      const loaded = await store.load()
      return loaded.sessions.reduce((n, s) => n + s.outgoing.length, 0)
    } finally {
      await store.close()
    }
  } catch (err) {
    if (err instanceof StoreError) return err
    throw err
  }
}

function assertCorrupt(result: StoreError | number, file: string): void {
  assert.ok(result instanceof StoreError, `expected MQTT_STORE_CORRUPT, loaded ${String(result)}`)
  assert.equal(result.code, 'MQTT_STORE_CORRUPT', result.message)
  assert.ok(result.message.includes(file), result.message)
  assert.match(result.hint ?? '', /Move the file aside/)
}

describe('a damaged session store file', () => {
  it('is corrupt when it holds random bytes', async () => {
    for (const size of [1, 100, 4096, 65_536]) {
      const file = path.join(dir, `garbage-${String(size)}.db`)
      fs.writeFileSync(file, randomBytes(size))
      const result = await openAndLoad(file)
      assertCorrupt(result, file)
      assert.equal(fs.statSync(file).size, size, 'the file is left as it was')
    }
  })

  it('is corrupt when its header is overwritten', async () => {
    const file = damaged(0, new Uint8Array(100).fill(0x55))
    assertCorrupt(await openAndLoad(file), file)
  })

  it('is corrupt when the header of any b-tree page is overwritten', async () => {
    const pageSize = fs.readFileSync(pristine).readUInt16BE(16)
    const pages = fs.statSync(pristine).size / pageSize
    assert.ok(pages > 5, `only ${String(pages)} pages`)
    for (let page = 1; page < pages; page++) {
      const file = damaged(page * pageSize, new Uint8Array(12).fill(0xff))
      assertCorrupt(await openAndLoad(file), file)
    }
  })

  it('is corrupt when truncated in the middle of a page', async () => {
    const file = path.join(dir, 'truncated.db')
    const data = fs.readFileSync(pristine)
    fs.writeFileSync(file, data.subarray(0, Math.floor(data.length / 2) + 100))
    assertCorrupt(await openAndLoad(file), file)
  })

  it('never throws a raw error or loses entries silently when any byte range is overwritten', async () => {
    const size = fs.statSync(pristine).size
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: size - 1 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        async (offset, bytes) => {
          const file = damaged(offset, bytes)
          const result = await openAndLoad(file)
          if (typeof result === 'number') assert.equal(result, sessions * 10)
          else assertCorrupt(result, file)
          fs.rmSync(file)
        },
      ),
      { numRuns: 150 },
    )
  })
})
