import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Principal } from '../accounts/roles.js'
import { AuditLog } from '../audit/audit-log.js'
import { openStateDb } from '../db/state-db.js'
import { RuleStore } from './rule-store.js'
import { hiddenSecret, redactDefinition } from './rule-secrets.js'
import type { StoredRule } from './rule-types.js'

const principal = (tenantId: string, role: Principal['role'] = 'admin'): Principal => ({
  kind: 'user',
  id: `${role}-${tenantId}`,
  tenantId,
  role,
  platformAdmin: false,
  actor: `user:${role}-${tenantId}`,
})
const alice = principal('acme')
const bob = principal('globex')
const viewer = principal('acme', 'viewer')
const secret = 's'.repeat(40)

function makeStore(options: { maxRulesPerTenant?: number } = {}) {
  const db = openStateDb(':memory:')
  let now = 1_000
  const clock = () => now++
  const audit = new AuditLog(db, clock)
  const rules = new RuleStore(
    {
      db,
      audit,
      clock,
      policy: { allowPrivateNetworks: false },
      // Names resolve to a public address without DNS; `internal.example` to a private one.
      resolve: (host) =>
        Promise.resolve([host === 'internal.example' ? '10.0.0.7' : '93.184.215.14']),
    },
    options,
  )
  return { db, audit, rules }
}

const hot = (extra: Record<string, unknown> = {}) => ({
  name: 'hot',
  enabled: true,
  match: { topicKinds: ['telemetry'], metrics: ['temp'] },
  condition: 'payload.temp > 30',
  actions: [{ type: 'alarm', name: 'overheat', severity: 'warning' }],
  ...extra,
})

const withSecrets = (extra: Record<string, unknown> = {}) =>
  hot({
    actions: [
      {
        type: 'webhook',
        url: 'https://hooks.example.com/strata',
        secret,
        headers: { Authorization: 'Bearer abc' },
      },
      {
        type: 'amqp',
        url: 'amqp://user:p4ss@broker.example.com/prod',
        exchange: 'x',
        routingKey: 'k',
      },
      {
        type: 'nats',
        servers: ['nats://nats.example.com:4222'],
        subject: 'alerts',
        token: 'tok-1',
      },
    ],
    ...extra,
  })

const rejects = async (fn: () => unknown, code: string) =>
  assert.rejects(
    () => Promise.resolve().then(fn),
    (err: { code?: string }) => err.code === code,
  )

test('versions: 1 on create, +1 per change, newest first, kept after a delete', async () => {
  const { rules } = makeStore()
  const created = await rules.create(alice, hot())
  assert.equal(created.version, 1)
  assert.equal(created.updatedBy, 'user:admin-acme')
  const updated = await rules.update(alice, 'hot', hot({ condition: 'payload.temp > 40' }))
  assert.equal(updated.version, 2)
  assert.equal(updated.createdAt, created.createdAt)
  assert.ok(updated.updatedAt > created.updatedAt)
  const disabled = rules.setEnabled(alice, 'hot', false)
  assert.equal(disabled.version, 3)
  assert.equal(disabled.enabled, false)
  assert.equal(disabled.definition.enabled, false)
  assert.deepEqual(
    rules.versions(alice, 'hot', { limit: 10 }).map((v) => [v.version, v.change]),
    [
      [3, 'disable'],
      [2, 'update'],
      [1, 'create'],
    ],
  )
  assert.equal(rules.version(alice, 'hot', 1).definition.condition, 'payload.temp > 30')
  rules.delete(alice, 'hot')
  assert.throws(() => rules.get(alice, 'hot'), { code: 'CLOUD_NOT_FOUND' })
  assert.equal(rules.versions(alice, 'hot', { limit: 10 }).length, 3)
  // A new rule under the name goes on from the kept versions: no ETag is ever reused.
  assert.equal((await rules.create(alice, hot())).version, 4)
})

test('If-Match: a stale version is refused, the current one, a list or * pass', async () => {
  const { rules } = makeStore()
  await rules.create(alice, hot())
  await rejects(
    () => rules.update(alice, 'hot', hot(), { ifMatch: '"2"' }),
    'CLOUD_PRECONDITION_FAILED',
  )
  const v2 = await rules.update(alice, 'hot', hot(), { ifMatch: '"1"' })
  assert.equal(v2.version, 2)
  assert.equal((await rules.update(alice, 'hot', hot(), { ifMatch: 'W/"9", "2"' })).version, 3)
  assert.equal((await rules.update(alice, 'hot', hot(), { ifMatch: '*' })).version, 4)
  await rejects(() => rules.update(alice, 'hot', hot({ name: 'cold' })), 'CLOUD_INVALID')
  await rejects(() => rules.update(alice, 'nope', hot({ name: 'nope' })), 'CLOUD_NOT_FOUND')
})

test('enable and disable; disableForFailures is audited as system and enabling clears it', async () => {
  const { rules, audit } = makeStore()
  await rules.create(alice, hot())
  rules.disableForFailures('acme', 'hot', 'ANALYTICS_EVALUATION_FAILED: division by zero', 5_000)
  const off = rules.get(alice, 'hot')
  assert.equal(off.enabled, false)
  assert.equal(off.version, 2)
  assert.equal(off.updatedBy, 'system')
  assert.equal(off.disabledAt, 5_000)
  assert.match(off.disabledReason ?? '', /division by zero/)
  // Already disabled: nothing happens.
  rules.disableForFailures('acme', 'hot', 'again', 6_000)
  assert.equal(rules.get(alice, 'hot').version, 2)
  const entry = audit.query({ tenantId: 'acme', action: 'rule.disable-failures', limit: 5 })[0]
  assert.equal(entry?.actor, 'system')
  assert.equal(entry.details['version'], 2)
  // A fix that stays disabled keeps the reason; enabling clears it.
  const fixed = await rules.update(alice, 'hot', hot({ enabled: false }))
  assert.equal(fixed.disabledReason, off.disabledReason)
  const on = rules.setEnabled(alice, 'hot', true)
  assert.equal(on.enabled, true)
  assert.equal(on.disabledReason, undefined)
  assert.equal(on.disabledAt, undefined)
  rules.disableForFailures('acme', 'hot', 'x', 7_000)
  const viaPut = await rules.update(alice, 'hot', hot({ enabled: true }))
  assert.equal(viaPut.disabledReason, undefined)
  assert.deepEqual(
    audit
      .query({ tenantId: 'acme', target: 'rule:hot', limit: 20 })
      .map((e) => [e.action, e.details['version']])
      .reverse(),
    [
      ['rule.create', 1],
      ['rule.disable-failures', 2],
      ['rule.update', 3],
      ['rule.enable', 4],
      ['rule.disable-failures', 5],
      ['rule.update', 6],
    ],
  )
})

test('secrets are hidden in what is shown, and "********" keeps the saved secret', async () => {
  const { rules, audit } = makeStore()
  const rule = await rules.create(alice, withSecrets())
  const shown = JSON.stringify(redactDefinition(rule.definition))
  for (const s of [secret, 'Bearer abc', 'p4ss', 'tok-1']) assert.ok(!shown.includes(s), s)
  const [hook, amqp, nats] = redactDefinition(rule.definition).actions as any[]
  assert.equal(hook.secret, hiddenSecret)
  assert.equal(hook.headers.Authorization, hiddenSecret)
  assert.equal(amqp.url, 'amqp://user:********@broker.example.com/prod')
  assert.equal(nats.token, hiddenSecret)
  // The audit log never holds them either.
  assert.ok(!JSON.stringify(audit.query({ tenantId: 'acme', limit: 10 })).includes(secret))

  // Sending back what was shown, with a changed condition, keeps every secret.
  const edited = { ...redactDefinition(rule.definition), condition: 'payload.temp > 50' }
  const saved = await rules.update(alice, 'hot', JSON.parse(JSON.stringify(edited)))
  const [h2, a2, n2] = saved.definition.actions as any[]
  assert.equal(h2.secret, secret)
  assert.equal(h2.headers.Authorization, 'Bearer abc')
  assert.equal(a2.url, 'amqp://user:p4ss@broker.example.com/prod')
  assert.equal(n2.token, 'tok-1')
  // Reordered actions still find their secrets.
  const reordered = { ...edited, actions: [...edited.actions].reverse() }
  const again = await rules.update(alice, 'hot', JSON.parse(JSON.stringify(reordered)))
  assert.equal((again.definition.actions[2] as any).secret, secret)
  // A new secret replaces the old one.
  const fresh = 'n'.repeat(48)
  const replaced = await rules.update(
    alice,
    'hot',
    withSecrets({
      actions: [{ type: 'webhook', url: 'https://hooks.example.com/b', secret: fresh }],
    }),
  )
  assert.equal((replaced.definition.actions[0] as any).secret, fresh)
})

test('"********" is refused where it would send a saved secret somewhere else, or on create', async () => {
  const { rules } = makeStore()
  const rule = await rules.create(alice, withSecrets())
  const shown = JSON.parse(JSON.stringify(redactDefinition(rule.definition)))
  const moved = (i: number, patch: Record<string, unknown>) => ({
    ...shown,
    actions: shown.actions.map((a: any, j: number) => (j === i ? { ...a, ...patch } : a)),
  })
  const refused = async (body: unknown, path: string) =>
    assert.rejects(
      async () => rules.update(alice, 'hot', body),
      (err: any) => err.code === 'CLOUD_INVALID' && err.details.violations[0].path === path,
    )
  await refused(moved(0, { url: 'https://evil.example.net/x' }), '/actions/0/secret')
  await refused(moved(1, { url: 'amqp://user:********@evil.example.net/prod' }), '/actions/1/url')
  await refused(moved(2, { servers: ['nats://evil.example.net:4222'] }), '/actions/2/token')
  await assert.rejects(
    async () => rules.create(alice, { ...shown, name: 'copy' }),
    (err: any) =>
      err.code === 'CLOUD_INVALID' && err.details.violations[0].path === '/actions/0/secret',
  )
  // Same origin, another path: the secret is kept.
  const samePlace = await rules.update(
    alice,
    'hot',
    moved(0, { url: 'https://hooks.example.com/v2' }),
  )
  assert.equal((samePlace.definition.actions[0] as any).secret, secret)
})

test('compile errors and refused targets name the field', async () => {
  const { rules } = makeStore()
  const violation = async (body: unknown, code: string, path: string) =>
    assert.rejects(
      async () => rules.create(alice, body),
      (err: any) => {
        assert.equal(err.code, code)
        assert.equal(err.details.violations[0].path, path)
        return true
      },
    )
  await violation(
    hot({ condition: 'payload.temp >' }),
    'ANALYTICS_EXPRESSION_INVALID',
    '/condition',
  )
  await violation(hot({ transform: 'nosuch(1)' }), 'ANALYTICS_EXPRESSION_TYPE', '/transform')
  await violation(hot({ enabled: 'yes' }), 'ANALYTICS_RULE_INVALID', '/enabled')
  await violation(
    hot({ actions: [{ type: 'webhook', url: 'https://internal.example/x', secret }] }),
    'CLOUD_DELIVERY_TARGET_INVALID',
    '/actions/0',
  )
  await violation(
    hot({ actions: [{ type: 'webhook', url: 'https://127.0.0.1/x', secret }] }),
    'CLOUD_DELIVERY_TARGET_INVALID',
    '/actions/0/url',
  )
  assert.equal(rules.all().length, 0)
})

test('tenants see only their own rules; viewers read but never write', async () => {
  const { rules } = makeStore()
  await rules.create(alice, hot())
  await rules.create(bob, hot({ condition: 'payload.temp > 99' }))
  assert.equal(rules.list(alice).length, 1)
  assert.equal(rules.get(bob, 'hot').definition.condition, 'payload.temp > 99')
  rules.delete(bob, 'hot')
  assert.throws(() => rules.get(bob, 'hot'), { code: 'CLOUD_NOT_FOUND' })
  assert.equal(rules.get(alice, 'hot').version, 1)
  assert.throws(() => rules.version(bob, 'other', 1), { code: 'CLOUD_NOT_FOUND' })
  assert.equal(rules.list(viewer).length, 1)
  await rejects(() => rules.create(viewer, hot({ name: 'v' })), 'CLOUD_FORBIDDEN')
  assert.throws(() => rules.setEnabled(viewer, 'hot', false), { code: 'CLOUD_FORBIDDEN' })
  assert.throws(() => rules.delete(viewer, 'hot'), { code: 'CLOUD_FORBIDDEN' })
})

test('a tenant holds at most maxRulesPerTenant rules; a name is taken once', async () => {
  const { rules } = makeStore({ maxRulesPerTenant: 3 })
  for (const name of ['a', 'b', 'c']) await rules.create(alice, hot({ name }))
  await rejects(() => rules.create(alice, hot({ name: 'a' })), 'CLOUD_CONFLICT')
  await assert.rejects(
    async () => rules.create(alice, hot({ name: 'd' })),
    (err: any) => err.code === 'CLOUD_CONFLICT' && err.details.limit === 3,
  )
  await rules.create(bob, hot({ name: 'd' })) // another tenant's count
  rules.delete(alice, 'a')
  await rules.create(alice, hot({ name: 'd' }))
})

test('onChange tells the engine each committed change; all() survives a restart', async () => {
  const { db, audit, rules } = makeStore()
  const seen: [string, string, number | undefined, boolean | undefined][] = []
  rules.onChange((tenant, name, rule) => seen.push([tenant, name, rule?.version, rule?.enabled]))
  rules.onChange(() => {
    throw new Error('a broken listener does not break the store')
  })
  await rules.create(alice, hot())
  await rules.update(alice, 'hot', hot({ condition: 'payload.temp > 35' }))
  rules.setEnabled(alice, 'hot', false)
  rules.disableForFailures('acme', 'hot', 'already off', 1) // no change, no event
  rules.setEnabled(alice, 'hot', true)
  await rejects(
    () => rules.update(alice, 'hot', hot({ condition: '(' })),
    'ANALYTICS_EXPRESSION_INVALID',
  )
  await rules.create(bob, hot())
  rules.delete(alice, 'hot')
  assert.deepEqual(seen, [
    ['acme', 'hot', 1, true],
    ['acme', 'hot', 2, true],
    ['acme', 'hot', 3, false],
    ['acme', 'hot', 4, true],
    ['globex', 'hot', 1, true],
    ['acme', 'hot', undefined, undefined],
  ])
  const reopened = new RuleStore({
    db,
    audit,
    clock: () => 0,
    policy: { allowPrivateNetworks: false },
  })
  const all: readonly StoredRule[] = reopened.all()
  assert.deepEqual(
    all.map((r) => [r.tenantId, r.name, r.version]),
    [['globex', 'hot', 1]],
  )
})
