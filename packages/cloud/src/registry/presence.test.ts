import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { openStateDb } from '../db/state-db.js'
import { PresenceTracker, wakeGraceMs, type PresenceChange } from './presence.js'

function setup(t: TestContext) {
  const db = openStateDb(':memory:')
  db.prepare("INSERT INTO tenants (id, name, created_at) VALUES ('t', 'T', 0)").run()
  db.prepare(
    "INSERT INTO devices (id, tenant_id, name, state, labels, attributes, created_at, updated_at) VALUES ('d', 't', 'd', 'active', '{}', '{}', 0, 0)",
  ).run()
  let now = 1_000_000
  const changes: PresenceChange[] = []
  const tracker = new PresenceTracker({
    db,
    clock: () => now,
    onChange: (c) => changes.push(c),
    sweepMs: 3_600_000,
  })
  t.after(() => {
    tracker.close()
    db.close()
  })
  return { db, tracker, changes, advance: (ms: number) => (now += ms), now: () => now }
}

test('a device that never connected is offline', (t) => {
  const { tracker } = setup(t)
  assert.deepEqual(tracker.get('d'), {
    deviceId: 'd',
    status: 'offline',
    reason: 'never connected',
    since: 0,
    lastSeenAt: null,
    wakeBy: null,
  })
})

test('a clean disconnect with a sleep schedule is sleeping until 1.5 × sleep + grace, then offline', (t) => {
  const { tracker, advance, now, changes } = setup(t)
  tracker.connected('d')
  assert.equal(tracker.get('d').status, 'online')
  advance(5_000)
  tracker.disconnected('d', 'DISCONNECT 0 from the client', 600)
  const sleeping = tracker.get('d')
  assert.equal(sleeping.status, 'sleeping')
  assert.equal(sleeping.wakeBy, now() + 900_000 + wakeGraceMs)
  advance(900_000 + wakeGraceMs - 1)
  tracker.sweep()
  assert.equal(tracker.get('d').status, 'sleeping', 'not overdue yet')
  advance(1)
  tracker.sweep()
  const offline = tracker.get('d')
  assert.equal(offline.status, 'offline')
  assert.equal(offline.reason, 'missed its wake-up')
  assert.deepEqual(
    changes.map((c) => [c.previous?.status, c.current.status]),
    [
      [undefined, 'online'],
      ['online', 'sleeping'],
      ['sleeping', 'offline'],
    ],
  )
})

test('a lost link is offline with the reason, even for a device that sleeps', (t) => {
  const { tracker } = setup(t)
  tracker.connected('d')
  tracker.disconnected('d', 'keep-alive timeout', 600)
  assert.deepEqual(
    [tracker.get('d').status, tracker.get('d').reason],
    ['offline', 'keep-alive timeout'],
  )
  tracker.connected('d')
  tracker.disconnected('d', 'DISCONNECT 0 from the client', undefined)
  assert.deepEqual([tracker.get('d').status, tracker.get('d').reason], ['offline', 'disconnected'])
})

test('a restart turns online devices offline, and last-seen follows every packet', (t) => {
  const { db, tracker, advance, now } = setup(t)
  tracker.connected('d')
  advance(1_000)
  tracker.seen('d')
  assert.equal(tracker.get('d').lastSeenAt, now())
  tracker.close()
  const after = new PresenceTracker({ db, clock: now, sweepMs: 3_600_000 })
  assert.deepEqual(
    [after.get('d').status, after.get('d').reason],
    ['offline', 'the node restarted'],
  )
  after.close() // before setup's hook closes the database: close() writes what is pending
})

test('changes are written behind in one transaction, and close() writes what is pending', (t) => {
  const { db, tracker } = setup(t)
  const insert = db.prepare(
    "INSERT INTO devices (id, tenant_id, name, state, labels, attributes, created_at, updated_at) VALUES (?, 't', ?, 'active', '{}', '{}', 0, 0)",
  )
  for (let i = 0; i < 50; i++) insert.run(`d${String(i)}`, `d${String(i)}`)
  for (let i = 0; i < 50; i++) tracker.connected(`d${String(i)}`)
  const rows = () => (db.prepare('SELECT count(*) AS n FROM presence').get() as { n: number }).n
  assert.equal(rows(), 0, 'nothing written yet: no commit per connect')
  assert.equal(tracker.get('d7').status, 'online', 'reads see pending changes')
  tracker.flush()
  assert.equal(rows(), 50)
  tracker.disconnected('d7', 'keep-alive timeout', undefined)
  tracker.close()
  const row = db.prepare("SELECT status FROM presence WHERE device_id = 'd7'").get() as {
    status: string
  }
  assert.equal(row.status, 'offline')
})

test('the connection history keeps the last 1,000 changes and nothing older than 30 days', (t) => {
  const { tracker, advance, db } = setup(t)
  tracker.connected('d')
  tracker.disconnected('d', 'DISCONNECT 0 from the client', undefined)
  advance(31 * 24 * 3600 * 1000)
  tracker.connected('d')
  tracker.flush()
  assert.deepEqual(
    tracker.history('d', { limit: 10 }).items.map((e) => e.reason),
    ['connected'],
    'changes over 30 days old are pruned in the write that appends',
  )
  for (let i = 0; i < 600; i++) {
    advance(1)
    tracker.disconnected('d', 'keep-alive timeout', undefined)
    advance(1)
    tracker.connected('d')
  }
  const count = db.prepare("SELECT COUNT(*) FROM presence_events WHERE device_id = 'd'").pluck()
  assert.equal(count.get(), 1, 'the 1,200 changes wait in memory for the write behind')
  const newest = tracker.history('d', { limit: 2 })
  assert.equal(count.get(), 1000)
  assert.deepEqual(
    newest.items.map((e) => e.status),
    ['online', 'offline'],
  )
  let seen = 0
  let cursor: string | null = null
  do {
    const page: ReturnType<typeof tracker.history> = tracker.history('d', {
      limit: 300,
      ...(cursor === null ? {} : { cursor }),
    })
    seen += page.items.length
    cursor = page.nextCursor
  } while (cursor !== null)
  assert.equal(seen, 1000)
})
