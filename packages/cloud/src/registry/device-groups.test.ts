import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Principal } from '../accounts/roles.js'
import { AuditLog } from '../audit/audit-log.js'
import { openStateDb } from '../db/state-db.js'
import { SecretStore } from '../secrets/secret-store.js'
import { DeviceGroups } from './device-groups.js'
import { DeviceRegistry } from './device-registry.js'

const admin: Principal = {
  kind: 'user',
  id: 'u',
  tenantId: 't',
  role: 'admin',
  platformAdmin: false,
  actor: 'user:u',
}

test('a dynamic group lists (in SQL) exactly the devices whose groupsOf (in memory) names it', (t) => {
  const db = openStateDb(':memory:')
  t.after(() => db.close())
  db.prepare("INSERT INTO tenants (id, name, created_at) VALUES ('t', 'T', 0)").run()
  const clock = () => 1_000
  const audit = new AuditLog(db, clock)
  const registry = new DeviceRegistry({ db, secrets: new SecretStore(db, clock), audit, clock })
  const groups = new DeviceGroups({ db, audit, clock, lookup: (id) => registry.lookup(id) })
  const labelSets = [
    {},
    { site: 'berlin' },
    { site: 'berlin', gpu: '' },
    { site: 'berlin', gpu: 'a100', tier: 'test' },
    { site: 'berlin', gpu: 'a100', tier: 'prod' },
    { site: 'berlin', gpu: 'a100', retired: 'yes' },
    { site: 'paris', gpu: 'a100' },
    { site: 'Berlin', gpu: 'a100' },
  ]
  labelSets.forEach((labels, i) => registry.create(admin, { id: `d${String(i)}`, labels }))
  groups.create(admin, { id: 'g', query: ' site=berlin, tier!=test, gpu, !retired ' })

  const listed = groups.members(admin, 'g', { limit: 100 }).items.map((d) => d.id)
  assert.deepEqual(listed, ['d2', 'd4'])
  const named = labelSets
    .map((_, i) => `d${String(i)}`)
    .filter((id) => groups.groupsOf(id).some((g) => g.id === 'g'))
  assert.deepEqual(named, listed)

  registry.transition(admin, 'd4', 'revoke')
  assert.deepEqual(
    groups.members(admin, 'g', { limit: 100 }).items.map((d) => d.id),
    ['d2'],
  )
  assert.deepEqual(groups.groupsOf('d4'), [])
  assert.equal(groups.get(admin, 'g').query, 'site=berlin, tier!=test, gpu, !retired')
})
