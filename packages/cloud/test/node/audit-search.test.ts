import assert from 'node:assert/strict'
import { test } from 'node:test'
import { adminOf, deviceWithToken, startTestNode } from './node-fixture.js'

interface Entry {
  seq: number
  ts: number
  actor: string
  action: string
  target: string
}

test('searches the audit log by action prefix, actor prefix, free text and time range', async (t) => {
  const node = await startTestNode(t)
  const admin = await adminOf(node)
  await deviceWithToken(admin, 'pump-7')
  await deviceWithToken(admin, 'valve-2')
  await admin.post('/api/v1/devices/valve-2/revoke', { reason: 'cracked housing' })
  const search = async (query: string): Promise<Entry[]> =>
    (await admin.get(`/api/v1/audit?${query}`)).body.items as Entry[]
  const actions = (entries: Entry[]) => [...new Set(entries.map((e) => e.action))].sort()

  // Exact stays exact; a trailing * is a prefix.
  assert.deepEqual(await search('action=device'), [])
  assert.deepEqual(actions(await search('action=device.*')), [
    'device.create',
    'device.revoke',
    'device.token.create',
  ])
  assert.deepEqual(actions(await search(`action=${encodeURIComponent('device.rev*')}`)), [
    'device.revoke',
  ])
  const byUsers = await search(`actor=${encodeURIComponent('user:*')}`)
  assert.ok(byUsers.length >= 5)
  assert.ok(byUsers.every((e) => e.actor.startsWith('user:')))

  // Free text: in the target or the details, in any case; % and _ are plain characters.
  assert.deepEqual([...new Set((await search('q=VALVE-2')).map((e) => e.target))].sort(), [
    'device:valve-2',
  ])
  assert.deepEqual(actions(await search('q=cracked%20housing')), ['device.revoke'])
  assert.deepEqual(await search('q=%25'), [])
  assert.deepEqual(await search('q=pump_7'), [])
  assert.ok((await search('q=pump-7')).length >= 2)

  // Time range: from inclusive, to exclusive, as epoch ms or RFC 3339.
  const all = await search('limit=1000')
  const revoke = all.find((e) => e.action === 'device.revoke')
  assert.ok(revoke !== undefined)
  assert.ok((await search(`from=${String(revoke.ts)}`)).some((e) => e.seq === revoke.seq))
  assert.ok((await search(`to=${String(revoke.ts)}`)).every((e) => e.ts < revoke.ts))
  const future = new Date(Date.now() + 3_600_000).toISOString()
  assert.deepEqual(await search(`from=${encodeURIComponent(future)}`), [])
  assert.deepEqual(
    (await search(`action=device.*&from=0&to=${encodeURIComponent(future)}`)).length,
    (await search('action=device.*')).length,
  )

  // Bad input: a clear 400 naming the parameter.
  const bad = await admin.get('/api/v1/audit?from=yesterday', [400])
  assert.equal(bad.body.code, 'CLOUD_INVALID')
  assert.match(bad.body.detail, /^from: "yesterday" is not epoch milliseconds/)
  await admin.get(`/api/v1/audit?q=${'x'.repeat(201)}`, [400])
})
