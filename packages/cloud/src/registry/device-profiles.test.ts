import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { Principal } from '../accounts/roles.js'
import { AuditLog } from '../audit/audit-log.js'
import { openStateDb } from '../db/state-db.js'
import { SecretStore } from '../secrets/secret-store.js'
import { checkSpec, DeviceProfiles, profileLimitsOf } from './device-profiles.js'
import { DeviceRegistry } from './device-registry.js'

const admin: Principal = {
  kind: 'user',
  id: 'u',
  tenantId: 't',
  role: 'admin',
  platformAdmin: false,
  actor: 'user:u',
}

function setup(t: TestContext) {
  const db = openStateDb(':memory:')
  t.after(() => db.close())
  db.prepare("INSERT INTO tenants (id, name, created_at) VALUES ('t', 'T', 0)").run()
  const clock = () => 1_000
  const audit = new AuditLog(db, clock)
  const profiles = new DeviceProfiles({ db, audit, clock })
  const registry = new DeviceRegistry({
    db,
    secrets: new SecretStore(db, clock),
    audit,
    clock,
    onProfileChange: (id) => profiles.forgetDevice(id),
  })
  return { db, profiles, registry }
}

test('profileLimitsOf fills in defaults and keeps the burst at or above the rate', () => {
  const defaults = { messagesPerSecond: 200, burst: 2000, maxPayloadBytes: 262_144 }
  assert.deepEqual(profileLimitsOf(undefined), defaults)
  assert.deepEqual(profileLimitsOf({}), defaults)
  assert.deepEqual(profileLimitsOf({ limits: { messagesPerSecond: 5000 } }), {
    ...defaults,
    messagesPerSecond: 5000,
    burst: 5000,
  })
  assert.deepEqual(profileLimitsOf({ limits: { burst: 10, maxPayloadBytes: 64 } }), {
    messagesPerSecond: 200,
    burst: 200,
    maxPayloadBytes: 64,
  })
})

test('checkSpec stores what applies and names the first bad field', () => {
  assert.deepEqual(checkSpec({ sleepIntervalS: 60 }), {
    sleepIntervalS: 60,
    limits: { messagesPerSecond: 200, burst: 2000, maxPayloadBytes: 262_144 },
    strictMetrics: false,
  })
  // A rate above the default burst without a burst of its own is fine: the burst follows it.
  assert.equal(checkSpec({ limits: { messagesPerSecond: 9000 } }).limits?.burst, 9000)
  const fieldOf = (spec: unknown) => {
    try {
      checkSpec(spec)
    } catch (err) {
      return (err as { code: string; details: { field: string } }).details.field
    }
    return undefined
  }
  assert.equal(fieldOf({ limits: { burst: 199 } }), 'spec/limits/burst')
  assert.equal(fieldOf({ sleepIntervalS: 0 }), 'spec/sleepIntervalS')
  assert.equal(fieldOf({ strictMetrics: 'yes' }), 'spec/strictMetrics')
  assert.equal(fieldOf([]), 'spec')
})

test('forDevice answers from memory after the first call, and follows profile and device changes', (t) => {
  const { db, profiles, registry } = setup(t)
  profiles.create(admin, { id: 'p', spec: { sleepIntervalS: 60 } })
  registry.create(admin, { id: 'with', profileId: 'p' })
  registry.create(admin, { id: 'without' })
  assert.equal(profiles.forDevice('with')?.sleepIntervalS, 60)
  assert.equal(profiles.forDevice('without'), undefined)
  assert.equal(profiles.forDevice('unknown'), undefined)

  const prepare = db.prepare.bind(db)
  db.prepare = () => assert.fail('forDevice queried the database')
  try {
    for (let i = 0; i < 1000; i++) profiles.forDevice(i % 2 === 0 ? 'with' : 'without')
  } finally {
    db.prepare = prepare
  }

  profiles.update(admin, 'p', { spec: { sleepIntervalS: 120 } })
  assert.equal(profiles.forDevice('with')?.sleepIntervalS, 120)
  registry.update(admin, 'without', { profileId: 'p' })
  assert.equal(profiles.forDevice('without')?.sleepIntervalS, 120)
  registry.update(admin, 'with', { profileId: null })
  assert.equal(profiles.forDevice('with'), undefined)
  // A device created after its id was asked about is not stuck without its profile.
  registry.create(admin, { id: 'unknown', profileId: 'p' })
  assert.equal(profiles.forDevice('unknown')?.sleepIntervalS, 120)
})
