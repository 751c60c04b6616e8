import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import type { Principal, Role } from '../accounts/roles.js'
import { AuditLog } from '../audit/audit-log.js'
import { openStateDb, type StateDb } from '../db/state-db.js'
import { DeviceRegistry } from '../registry/device-registry.js'
import { SecretStore } from '../secrets/secret-store.js'
import type { AlarmChange } from './alarm-types.js'
import { Alarms } from './alarms.js'

function principal(tenantId: string, role: Role, id = 'u1'): Principal {
  return { kind: 'user', id, tenantId, role, platformAdmin: false, actor: `user:${id}` }
}
const admin = principal('t', 'admin')
const viewer = principal('t', 'viewer', 'v1')
const other = principal('u', 'admin', 'o1')

/** A state database with tenants t and u, devices d1, d2 (t) and e1 (u), and its alarms. */
function setup(t: TestContext, path = ':memory:') {
  const db = openStateDb(path)
  t.after(() => db.close())
  let now = 1_000_000
  const clock = () => now
  if (db.prepare('SELECT COUNT(*) FROM tenants').pluck().get() === 0) {
    for (const id of ['t', 'u'])
      db.prepare('INSERT INTO tenants (id, name, created_at) VALUES (?, ?, 0)').run(id, id)
    const registry = new DeviceRegistry({
      db,
      secrets: new SecretStore(db, clock),
      audit: new AuditLog(db, clock),
      clock,
    })
    registry.create(admin, { id: 'd1' })
    registry.create(admin, { id: 'd2', name: 'boiler room' })
    registry.create(other, { id: 'e1' })
  }
  const alarms = openAlarms(db, clock)
  const changes: AlarmChange[] = []
  alarms.onChange((c) => changes.push(c))
  return {
    db,
    alarms,
    changes,
    tick: (ms = 1000) => (now += ms),
    now: () => now,
    reopen: () => openAlarms(db, clock),
  }
}

function openAlarms(db: StateDb, clock: () => number): Alarms {
  const registry = new DeviceRegistry({
    db,
    secrets: new SecretStore(db, clock),
    audit: new AuditLog(db, clock),
    clock,
  })
  return new Alarms({
    db,
    audit: new AuditLog(db, clock),
    clock,
    lookup: (id) => registry.lookup(id),
  })
}

const rule = { rule: 'overheat', ruleVersion: 2 }

test('a repeat raise updates the open alarm (count, last raise, message); a raise after a clear opens a new one', (t) => {
  const { alarms, changes } = setup(t)
  const first = alarms.raise({
    tenantId: 't',
    deviceId: 'd1',
    type: 'overheat',
    severity: 'warning',
    message: 'temp 81',
    source: rule,
    at: 100,
  })
  assert.equal(first.created, true)
  assert.equal(first.alarm.status, 'active')
  assert.deepEqual(first.alarm.source, { rule: 'overheat', ruleVersion: 2 })
  assert.equal(alarms.isOpen('t', 'd1', 'overheat'), true)
  assert.equal(alarms.isOpen('t', 'd1', 'other'), false)
  assert.equal(alarms.isOpen('u', 'd1', 'overheat'), false)

  for (const [i, at] of [200, 300, 250].entries()) {
    const again = alarms.raise({
      tenantId: 't',
      deviceId: 'd1',
      type: 'overheat',
      severity: 'warning',
      message: `temp ${String(82 + i)}`,
      source: rule,
      at,
    })
    assert.equal(again.created, false)
    assert.equal(again.alarm.id, first.alarm.id)
  }
  const open = alarms.get(admin, first.alarm.id)
  assert.equal(open.count, 4)
  assert.equal(open.raisedAt, 100)
  assert.equal(open.lastRaisedAt, 300, 'a late message does not move lastRaisedAt back')
  assert.equal(open.message, 'temp 84')
  // Three repeats are one history entry.
  const history = alarms.history(admin, open.id).items
  assert.deepEqual(
    history.map((e) => [e.kind, e.details]),
    [
      ['re-raised', { count: 4, repeats: 3, firstAt: 200, message: 'temp 84' }],
      ['raised', { severity: 'warning', message: 'temp 81' }],
    ],
  )
  assert.equal(history[0]?.by, 'rule:overheat')
  assert.deepEqual(
    changes.map((c) => c.event.kind),
    ['raised', 're-raised', 're-raised', 're-raised'],
  )

  const cleared = alarms.clear({
    tenantId: 't',
    deviceId: 'd1',
    type: 'overheat',
    at: 400,
    by: 'rule:overheat',
  })
  assert.equal(cleared?.status, 'cleared')
  assert.equal(cleared.clearedBy, 'rule:overheat')
  assert.equal(cleared.clearedAt, 400)
  assert.equal(alarms.isOpen('t', 'd1', 'overheat'), false)
  assert.equal(
    alarms.clear({ tenantId: 't', deviceId: 'd1', type: 'overheat', at: 401, by: 'rule:x' }),
    undefined,
    'nothing open: nothing cleared',
  )

  const next = alarms.raise({
    tenantId: 't',
    deviceId: 'd1',
    type: 'overheat',
    severity: 'warning',
    source: rule,
    at: 500,
  })
  assert.equal(next.created, true)
  assert.notEqual(next.alarm.id, first.alarm.id)
  assert.equal(next.alarm.count, 1)
})

test('a change of severity is recorded as escalated, and a repeat raise keeps the acknowledgement', (t) => {
  const { alarms, changes } = setup(t)
  const { alarm } = alarms.raise({
    tenantId: 't',
    deviceId: 'd1',
    type: 'pressure',
    severity: 'warning',
    source: rule,
    at: 100,
  })
  alarms.acknowledge(admin, alarm.id, 'looking at it')
  const up = alarms.raise({
    tenantId: 't',
    deviceId: 'd1',
    type: 'pressure',
    severity: 'critical',
    source: rule,
    at: 200,
  })
  assert.equal(up.alarm.severity, 'critical')
  assert.equal(up.alarm.status, 'acknowledged', 'a repeat raise does not undo an acknowledgement')
  assert.equal(up.alarm.acknowledgedBy, 'user:u1')
  assert.equal(up.alarm.comments, 1)
  const kinds = alarms.history(admin, alarm.id).items.map((e) => [e.kind, e.details])
  assert.deepEqual(kinds, [
    ['escalated', { from: 'warning', to: 'critical', count: 2 }],
    ['acknowledged', { comment: 'looking at it' }],
    ['raised', { severity: 'warning' }],
  ])
  assert.deepEqual(
    changes.map((c) => [c.event.kind, c.alarm.status]),
    [
      ['raised', 'active'],
      ['acknowledged', 'acknowledged'],
      ['escalated', 'acknowledged'],
    ],
  )
})

test('users acknowledge only active alarms and clear only open ones; comments go anywhere', (t) => {
  const { alarms, tick, now } = setup(t)
  const { alarm } = alarms.raiseByUser(admin, {
    deviceId: 'd2',
    type: 'door open',
    severity: 'info',
    message: 'left open',
  })
  assert.deepEqual(alarm.source, { user: 'user:u1' })
  tick()
  const acked = alarms.acknowledge(admin, alarm.id)
  assert.equal(acked.status, 'acknowledged')
  assert.equal(acked.acknowledgedAt, now())
  assert.throws(() => alarms.acknowledge(admin, alarm.id), {
    code: 'CLOUD_ALARM_STATE',
    message: /is acknowledged; only an active alarm can be acknowledged/,
  })
  tick()
  const cleared = alarms.clearByUser(admin, alarm.id, 'closed it')
  assert.deepEqual(
    [cleared.status, cleared.clearedBy, cleared.clearedAt, cleared.comments],
    ['cleared', 'user:u1', now(), 1],
  )
  assert.equal(alarms.isOpen('t', 'd2', 'door open'), false)
  assert.throws(() => alarms.clearByUser(admin, alarm.id), { code: 'CLOUD_ALARM_STATE' })
  assert.throws(() => alarms.acknowledge(admin, alarm.id), { code: 'CLOUD_ALARM_STATE' })

  const comment = alarms.comment(admin, alarm.id, 'root cause: a wedge')
  assert.equal(comment.text, 'root cause: a wedge')
  assert.throws(() => alarms.comment(admin, alarm.id, '   '), { code: 'CLOUD_INVALID' })
  assert.throws(() => alarms.comment(admin, alarm.id, 'x'.repeat(4097)), {
    code: 'CLOUD_INVALID',
  })
  assert.deepEqual(
    alarms.comments(viewer, alarm.id).map((c) => c.text),
    ['closed it', 'root cause: a wedge'],
  )
  assert.deepEqual(
    alarms
      .history(viewer, alarm.id)
      .items.map((e) => e.kind)
      .reverse(),
    ['raised', 'acknowledged', 'cleared', 'commented'],
  )

  // A viewer reads but changes nothing.
  assert.equal(alarms.get(viewer, alarm.id).comments, 2)
  assert.throws(() => alarms.comment(viewer, alarm.id, 'hi'), { code: 'CLOUD_FORBIDDEN' })
  assert.throws(() => alarms.raiseByUser(viewer, { deviceId: 'd1', type: 'x', severity: 'info' }), {
    code: 'CLOUD_FORBIDDEN',
  })
})

test('user actions are audited', (t) => {
  const { db, alarms } = setup(t)
  const { alarm } = alarms.raiseByUser(admin, { deviceId: 'd1', type: 'leak', severity: 'error' })
  alarms.acknowledge(admin, alarm.id)
  alarms.comment(admin, alarm.id, 'on it')
  alarms.clearByUser(admin, alarm.id)
  const entries = new AuditLog(db, () => 0).query({ tenantId: 't', limit: 10 })
  assert.deepEqual(
    entries
      .filter((e) => e.action.startsWith('alarm.'))
      .map((e) => [e.action, e.actor, e.target, e.details['alarmId']])
      .reverse(),
    [
      ['alarm.raise', 'user:u1', 'device:d1', alarm.id],
      ['alarm.acknowledge', 'user:u1', 'device:d1', alarm.id],
      ['alarm.comment', 'user:u1', 'device:d1', alarm.id],
      ['alarm.clear', 'user:u1', 'device:d1', alarm.id],
    ],
  )
})

test('one tenant never sees or touches another’s alarms', (t) => {
  const { alarms } = setup(t)
  const { alarm } = alarms.raise({
    tenantId: 'u',
    deviceId: 'e1',
    type: 'overheat',
    severity: 'critical',
    source: rule,
    at: 1,
  })
  for (const call of [
    () => alarms.get(admin, alarm.id),
    () => alarms.acknowledge(admin, alarm.id),
    () => alarms.clearByUser(admin, alarm.id),
    () => alarms.comment(admin, alarm.id, 'mine now'),
    () => alarms.history(admin, alarm.id),
    () => alarms.comments(admin, alarm.id),
  ])
    assert.throws(call, { code: 'CLOUD_NOT_FOUND' })
  assert.deepEqual(alarms.list(admin, { limit: 10 }).items, [])
  assert.equal(alarms.summary(admin).open, 0)
  assert.equal(alarms.summary(other).open, 1)
  // A rule (or a user) cannot raise for a device of another tenant.
  assert.throws(
    () =>
      alarms.raise({
        tenantId: 't',
        deviceId: 'e1',
        type: 'x',
        severity: 'info',
        source: rule,
        at: 1,
      }),
    { code: 'CLOUD_NOT_FOUND' },
  )
  assert.throws(() => alarms.raiseByUser(admin, { deviceId: 'e1', type: 'x', severity: 'info' }), {
    code: 'CLOUD_NOT_FOUND',
  })
  assert.equal(alarms.isOpen('t', 'e1', 'overheat'), false)
  assert.equal(alarms.isOpen('u', 'e1', 'overheat'), true)
})

test('the open index is rebuilt from the database when it is opened again', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-alarms-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'cloud.db')
  {
    const { alarms, db } = setup(t, path)
    for (const type of ['a', 'b', 'c'])
      alarms.raise({ tenantId: 't', deviceId: 'd1', type, severity: 'info', source: rule, at: 1 })
    alarms.clear({ tenantId: 't', deviceId: 'd1', type: 'b', at: 2, by: 'rule:overheat' })
    const { alarm } = alarms.raise({
      tenantId: 't',
      deviceId: 'd2',
      type: 'a',
      severity: 'info',
      source: rule,
      at: 1,
    })
    alarms.acknowledge(admin, alarm.id)
    db.close()
  }
  const { alarms } = setup(t, path)
  assert.deepEqual(
    [
      ['d1', 'a'],
      ['d1', 'b'],
      ['d1', 'c'],
      ['d2', 'a'],
    ].map(([d, type]) => alarms.isOpen('t', d as string, type as string)),
    [true, false, true, true],
  )
  assert.deepEqual(alarms.summary(admin), {
    open: 3,
    bySeverity: { info: 3, warning: 0, error: 0, critical: 0 },
    byStatus: { active: 2, acknowledged: 1 },
  })
})

test('lists filter by status, severity, device, type, rule, text and time, newest first, in pages', (t) => {
  const { alarms } = setup(t)
  const raise = (deviceId: string, type: string, severity: 'info' | 'critical', at: number) =>
    alarms.raise({
      tenantId: 't',
      deviceId,
      type,
      severity,
      message: `${type} on ${deviceId}`,
      source: type === 'manual' ? { user: 'user:u1' } : { rule: `r-${type}`, ruleVersion: 1 },
      at,
    }).alarm
  const made = []
  for (let i = 0; i < 25; i++)
    made.push(
      raise(
        i % 2 === 0 ? 'd1' : 'd2',
        `type-${String(i)}`,
        i % 3 === 0 ? 'critical' : 'info',
        1000 + i,
      ),
    )
  // Same raise time: the later row comes first.
  made.push(raise('d1', 'manual', 'info', 1024))
  alarms.acknowledge(admin, made[0]?.id ?? '')
  alarms.clearByUser(admin, made[1]?.id ?? '')

  const all = []
  let cursor: string | undefined
  for (;;) {
    const page = alarms.list(admin, { limit: 7, ...(cursor === undefined ? {} : { cursor }) })
    all.push(...page.items)
    if (page.nextCursor === null) break
    cursor = page.nextCursor
  }
  assert.equal(all.length, 26)
  assert.deepEqual(
    all.map((a) => a.id),
    [...made]
      .reverse()
      .sort((a, b) => b.raisedAt - a.raisedAt)
      .map((a) => a.id),
  )
  assert.equal(all[0]?.type, 'manual')

  const ids = (q: Parameters<Alarms['list']>[1]) => alarms.list(admin, q).items.map((a) => a.id)
  assert.deepEqual(ids({ limit: 100, status: 'acknowledged' }), [made[0]?.id])
  assert.deepEqual(ids({ limit: 100, status: 'cleared' }), [made[1]?.id])
  assert.equal(ids({ limit: 100, status: 'open' }).length, 25)
  assert.equal(ids({ limit: 100, status: 'active' }).length, 24)
  assert.equal(ids({ limit: 100, severity: ['critical'] }).length, 9)
  assert.equal(ids({ limit: 100, severity: ['critical', 'info'] }).length, 26)
  assert.equal(ids({ limit: 100, deviceId: ['d2'] }).length, 12)
  assert.equal(ids({ limit: 100, type: 'type-3' }).length, 1)
  assert.equal(ids({ limit: 100, rule: 'r-type-3' }).length, 1)
  assert.equal(ids({ limit: 100, q: 'MANUAL' }).length, 1, 'text search ignores ASCII case')
  assert.equal(ids({ limit: 100, q: 'on d2' }).length, 12, 'in the message')
  assert.equal(ids({ limit: 100, q: '%' }).length, 0, 'LIKE wildcards are literal')
  assert.equal(ids({ limit: 100, from: 1010, to: 1020 }).length, 10)
  assert.equal(
    ids({ limit: 100, from: 1010, to: 1020, severity: ['critical'], deviceId: ['d1'] }).length,
    2,
  )
  assert.throws(() => alarms.list(admin, { limit: 5, cursor: 'bogus' }), { code: 'CLOUD_INVALID' })
})

test('inputs have limits: type, severity, details are refused, a long message is cut', (t) => {
  const { alarms } = setup(t)
  const base = { tenantId: 't', deviceId: 'd1', source: rule, at: 1 } as const
  for (const type of ['', ' padded', 'x'.repeat(129), 'tab\there'])
    assert.throws(() => alarms.raise({ ...base, type, severity: 'info' }), {
      code: 'CLOUD_INVALID',
    })
  assert.throws(() => alarms.raise({ ...base, type: 'x', severity: 'fatal' as 'info' }), {
    code: 'CLOUD_INVALID',
  })
  assert.throws(
    () =>
      alarms.raise({ ...base, type: 'x', severity: 'info', details: { blob: 'x'.repeat(17_000) } }),
    { code: 'CLOUD_INVALID' },
  )
  const long = alarms.raise({ ...base, type: 'x', severity: 'info', message: 'é'.repeat(2000) })
  assert.ok(Buffer.byteLength(long.alarm.message ?? '') <= 2048)
  assert.ok(long.alarm.message?.endsWith('é…'))
  assert.throws(() => alarms.raise({ ...base, deviceId: 'ghost', type: 'x', severity: 'info' }), {
    code: 'CLOUD_NOT_FOUND',
  })
})

test('a tenant has at most maxOpenPerTenant open alarms', (t) => {
  const { db } = setup(t)
  const registry = new DeviceRegistry({
    db,
    secrets: new SecretStore(db, () => 0),
    audit: new AuditLog(db, () => 0),
    clock: () => 0,
  })
  const alarms = new Alarms(
    { db, audit: new AuditLog(db, () => 0), clock: () => 0, lookup: (id) => registry.lookup(id) },
    { maxOpenPerTenant: 2 },
  )
  const raise = (type: string) =>
    alarms.raise({ tenantId: 't', deviceId: 'd1', type, severity: 'info', source: rule, at: 1 })
  raise('a')
  raise('b')
  raise('a') // a repeat is not a new alarm
  assert.throws(() => raise('c'), { code: 'CLOUD_CONFLICT' })
  alarms.clear({ tenantId: 't', deviceId: 'd1', type: 'a', at: 2, by: 'rule:x' })
  assert.equal(raise('c').created, true)
})

test('repeat raises are held in memory, then written by the timer, before a change, and on close', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-alarms-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'cloud.db')
  const { db } = setup(t, path)
  const registry = new DeviceRegistry({
    db,
    secrets: new SecretStore(db, () => 0),
    audit: new AuditLog(db, () => 0),
    clock: () => 0,
  })
  const alarms = new Alarms(
    { db, audit: new AuditLog(db, () => 0), clock: () => 0, lookup: (id) => registry.lookup(id) },
    { repeatFlushMs: 50 },
  )
  t.after(() => alarms.close())
  const stored = (id: string) =>
    db.prepare('SELECT count, last_raised_at AS at FROM alarms WHERE id = ?').get(id) as {
      count: number
      at: number
    }
  const raise = (at: number, severity: 'info' | 'error' = 'info') =>
    alarms.raise({ tenantId: 't', deviceId: 'd1', type: 'x', severity, source: rule, at }).alarm
  const { id } = raise(1)
  raise(2) // written: the run starts
  for (let at = 3; at <= 10; at++) assert.equal(raise(at).count, at, 'the caller sees the count')
  assert.deepEqual(stored(id), { count: 2, at: 2 }, 'eight repeats only in memory')
  await new Promise((resolve) => setTimeout(resolve, 150))
  assert.deepEqual(stored(id), { count: 10, at: 10 }, 'the timer wrote them')

  raise(11)
  raise(12, 'error') // an escalation writes what was held first
  assert.deepEqual(stored(id), { count: 12, at: 12 })
  raise(13, 'error')
  raise(14, 'error')
  await alarms.close()
  assert.deepEqual(stored(id), { count: 14, at: 14 }, 'close wrote the rest')
  const again = alarms.history(admin, id).items.map((e) => [e.kind, e.details])
  assert.deepEqual(again, [
    ['re-raised', { count: 14, repeats: 2, firstAt: 13 }],
    ['escalated', { from: 'info', to: 'error', count: 12 }],
    ['re-raised', { count: 11, repeats: 10, firstAt: 2 }],
    ['raised', { severity: 'info' }],
  ])
})

test('cleared alarms are removed with their history and comments once past their retention; open ones stay', async (t) => {
  const { alarms, db, tick } = setup(t)
  const day = 24 * 3_600_000
  const raise = (deviceId: string, type: string) =>
    alarms.raise({ tenantId: 't', deviceId, type, severity: 'error', source: rule, at: 0 }).alarm
  const old = raise('d1', 'overheat')
  alarms.comment(admin, old.id, 'valve replaced')
  alarms.clearByUser(admin, old.id, 'fixed')
  const stillOpen = raise('d2', 'leak')
  tick(364 * day)
  const recent = raise('d1', 'overheat')
  alarms.clearByUser(admin, recent.id)
  assert.equal(await alarms.purgeCleared(), 0, 'nothing is a year old yet')
  tick(2 * day)

  assert.equal(await alarms.purgeCleared(), 1)
  assert.throws(() => alarms.get(admin, old.id), { code: 'CLOUD_NOT_FOUND' })
  const left = (table: string) =>
    db.prepare(`SELECT COUNT(*) FROM ${table} WHERE alarm_id = ?`).pluck().get(old.id)
  assert.equal(left('alarm_events'), 0)
  assert.equal(left('alarm_comments'), 0)
  assert.equal(alarms.get(admin, stillOpen.id).status, 'active')
  assert.equal(alarms.get(admin, recent.id).status, 'cleared')
  const audit = new AuditLog(db, Date.now).query({
    tenantId: 't',
    action: 'alarm.purge',
    limit: 10,
  })
  assert.equal(audit.length, 1)
  assert.equal(audit[0]?.details['count'], 1)
  assert.equal(await alarms.purgeCleared(), 0, 'a second sweep finds nothing more')
})
