import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openStateDb } from '../db/state-db.js'
import { defaultTwinLimits } from './twin-limits.js'
import { TwinStore } from './twin-store.js'

function storeWithDevice(historyMaxEntries: number) {
  const db = openStateDb(':memory:')
  db.prepare("INSERT INTO tenants (id, name, created_at) VALUES ('t', 't', 0)").run()
  db.prepare(
    "INSERT INTO devices (id, tenant_id, name, state, labels, attributes, created_at, updated_at) VALUES ('d', 't', 'd', 'active', '{}', '{}', 0, 0)",
  ).run()
  const store = new TwinStore(db, { ...defaultTwinLimits, historyMaxEntries })
  return { db, store, device: { id: 'd', tenantId: 't' } }
}

test('old changes fold into a baseline; the twin at a time after it still rebuilds exactly', () => {
  const { db, store, device } = storeWithDevice(10)
  try {
    const states = new Map<number, unknown>()
    for (let i = 1; i <= 25; i++) {
      const patch = i % 5 === 0 ? { [`k${String(i - 1)}`]: null } : { [`k${String(i)}`]: i }
      const { state } = store.apply(device, 'reported', patch, 'device', i * 1000)
      states.set(i * 1000, state.reported)
    }
    const kept = db
      .prepare("SELECT COUNT(*) FROM twin_history WHERE device_id = 'd' AND side = 'reported'")
      .pluck()
      .get() as number
    assert.ok(kept <= 11, `kept ${String(kept)} changes`)
    for (let i = 15; i <= 25; i++) {
      assert.deepEqual(
        store.sideAt('d', 'reported', i * 1000),
        states.get(i * 1000),
        `at ${String(i)}`,
      )
    }
    assert.throws(
      () => store.sideAt('d', 'reported', 1000),
      (err: { code?: string }) => err.code === 'CLOUD_NOT_FOUND',
    )
    assert.deepEqual(store.sideAt('d', 'desired', 1000).version, 0)
  } finally {
    db.close()
  }
})

test('a patch that changes nothing makes no version and no history', () => {
  const { db, store, device } = storeWithDevice(10)
  try {
    store.apply(device, 'desired', { a: 1 }, 'user:u', 1)
    const again = store.apply(device, 'desired', { a: 1, b: null }, 'user:u', 2)
    assert.equal(again.change, undefined)
    assert.equal(again.state.desired.version, 1)
    assert.equal(store.history('d', { limit: 10 }).length, 1)
  } finally {
    db.close()
  }
})
