import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkDeliveryTarget, type DeliveryTarget } from '../../src/rules/delivery/index.js'
import { outboxFor, secret, startReceiver, verifyStrataSignature, waitFor } from './helpers.js'

function webhook(url: string, extra: Partial<DeliveryTarget> = {}): DeliveryTarget {
  return { type: 'webhook', url, secret, timeoutMs: 2_000, ...extra } as DeliveryTarget
}

test('delivers a signed POST that verifies as the docs say', async (t) => {
  const receiver = await startReceiver(t)
  const outbox = outboxFor(t)
  const id = outbox.enqueue({
    target: webhook(receiver.url, { headers: { 'X-Tenant': 'acme' } }),
    message: { rule: 'hot', value: 42.5, text: 'grüße' },
  })
  const call = await waitFor(() => receiver.calls[0], 'the webhook call')
  assert.equal(call.headers['x-strata-delivery'], id)
  assert.equal(call.headers['content-type'], 'application/json')
  assert.equal(call.headers['x-tenant'], 'acme')
  assert.match(String(call.headers['x-strata-signature']), /^v1=[0-9a-f]{64}$/)
  assert.deepEqual(JSON.parse(call.body.toString('utf8')), {
    rule: 'hot',
    value: 42.5,
    text: 'grüße',
  })
  assert.ok(verifyStrataSignature(secret, call.headers, call.body), 'signature verifies')
  assert.ok(!verifyStrataSignature(`${secret}x`, call.headers, call.body), 'wrong secret fails')
  const tampered = Buffer.from(call.body.toString('utf8').replace('42.5', '43'))
  assert.ok(!verifyStrataSignature(secret, call.headers, tampered), 'tampered body fails')
  await waitFor(() => outbox.stats().queued === 0, 'the entry to leave the outbox')
  assert.equal(outbox.stats().deadLetters, 0)
})

test('retries 500 and 429 (honouring Retry-After) until a 2xx, with the same id', async (t) => {
  const started = Date.now()
  const receiver = await startReceiver(t, (_call, n) =>
    n === 1
      ? { status: 500 }
      : n === 2
        ? { status: 429, headers: { 'retry-after': '1' } }
        : { status: 200 },
  )
  const outcomes: string[] = []
  const outbox = outboxFor(
    t,
    {},
    { metrics: { attempted: (_type, outcome) => outcomes.push(outcome) } },
  )
  const id = outbox.enqueue({ target: webhook(receiver.url), message: { n: 1 } })
  await waitFor(() => outbox.stats().queued === 0 && receiver.calls.length === 3, 'delivery', 8_000)
  assert.deepEqual(
    receiver.calls.map((c) => c.headers['x-strata-delivery']),
    [id, id, id],
  )
  assert.deepEqual(
    receiver.calls.map((c) => c.headers['x-strata-attempt']),
    ['1', '2', '3'],
  )
  assert.ok(Date.now() - started >= 1_000, 'waited for Retry-After: 1')
  assert.deepEqual(outcomes, ['retry', 'retry', 'delivered'])
  assert.equal(outbox.stats().deadLetters, 0)
})

test('a 400 goes to the dead letters at once, with its status', async (t) => {
  const receiver = await startReceiver(t, () => ({ status: 400 }))
  const outbox = outboxFor(t)
  const id = outbox.enqueue({ target: webhook(receiver.url), message: { bad: true } })
  const [dead] = await waitFor(() => {
    const list = outbox.listDeadLetters()
    return list.length > 0 && list
  }, 'the dead letter')
  assert.ok(dead)
  assert.equal(receiver.calls.length, 1)
  assert.equal(dead.id, id)
  assert.equal(dead.attempts, 1)
  assert.equal(dead.lastError.status, 400)
  assert.equal(dead.lastError.code, 'CLOUD_DELIVERY_FAILED')
  assert.deepEqual(dead.message, { bad: true })
  assert.equal((dead.target as { secret: string }).secret, '[redacted]')
  assert.equal(outbox.stats().queued, 0)
})

test('a redirect is not followed and is permanent', async (t) => {
  const elsewhere = await startReceiver(t)
  const receiver = await startReceiver(t, () => ({
    status: 307,
    headers: { location: elsewhere.url },
  }))
  const outbox = outboxFor(t)
  outbox.enqueue({ target: webhook(receiver.url), message: {} })
  const [dead] = await waitFor(() => {
    const list = outbox.listDeadLetters()
    return list.length > 0 && list
  }, 'the dead letter')
  assert.ok(dead)
  assert.equal(dead.lastError.status, 307)
  assert.equal(elsewhere.calls.length, 0)
})

test('a receiver slower than timeoutMs is retried', async (t) => {
  const receiver = await startReceiver(t, (_call, n) =>
    n === 1 ? { status: 200, delayMs: 2_000 } : { status: 200 },
  )
  const outbox = outboxFor(t)
  outbox.enqueue({ target: webhook(receiver.url, { timeoutMs: 200 }), message: { slow: 1 } })
  await waitFor(() => outbox.stats().queued === 0, 'delivery after the timeout', 5_000)
  assert.equal(receiver.calls.length, 2)
  assert.equal(outbox.stats().deadLetters, 0)
})

test('refuses SSRF targets when the rule is saved', async () => {
  const strict = { allowPrivateNetworks: false }
  const refused = [
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://2852039166/', // 169.254.169.254 as one number
    'file:///etc/passwd',
    'http://user:pass@example.com/hook',
    'http://127.0.0.1:8080/hook',
    'http://localhost/hook', // resolves to loopback
    'gopher://example.com/',
  ]
  for (const url of refused) {
    await assert.rejects(
      checkDeliveryTarget(webhook(url), strict),
      { code: 'CLOUD_DELIVERY_TARGET_INVALID' },
      url,
    )
  }
  // The operator may allow private networks: loopback is then fine, credentials still are not.
  const allowed = await checkDeliveryTarget(webhook('http://localhost/hook'), {
    allowPrivateNetworks: true,
  })
  assert.equal(allowed.type, 'webhook')
  await assert.rejects(
    checkDeliveryTarget(webhook('http://user:pass@localhost/'), { allowPrivateNetworks: true }),
    { code: 'CLOUD_DELIVERY_TARGET_INVALID' },
  )
})

test('a target that resolves to a private address is refused at delivery too', async (t) => {
  const receiver = await startReceiver(t)
  const outbox = outboxFor(
    t,
    { allowPrivateNetworks: false },
    // The name looked public when the rule was saved; now it answers with a private address.
    { resolve: () => Promise.resolve(['10.1.2.3']) },
  )
  outbox.enqueue({
    target: webhook(receiver.url.replace('127.0.0.1', 'hooks.example.com')),
    message: {},
  })
  const [dead] = await waitFor(() => {
    const list = outbox.listDeadLetters()
    return list.length > 0 && list
  }, 'the dead letter')
  assert.ok(dead)
  assert.equal(dead.lastError.code, 'CLOUD_DELIVERY_ADDRESS_FORBIDDEN')
  assert.match(dead.lastError.message, /not a public address/)
  assert.equal(receiver.calls.length, 0)
})

test('the address checked is the address connected to: one lookup per connection, by the checking resolver', async (t) => {
  const receiver = await startReceiver(t)
  const asked: string[] = []
  // A name no real DNS knows: the call arrives only if the socket used this resolver's answer.
  const outbox = outboxFor(
    t,
    { allowPrivateNetworks: true },
    {
      resolve: (host) => {
        asked.push(host)
        return Promise.resolve(['127.0.0.1'])
      },
    },
  )
  outbox.enqueue({
    target: webhook(receiver.url.replace('127.0.0.1', 'hooks.rebind.invalid')),
    message: { n: 1 },
  })
  const call = await waitFor(() => receiver.calls[0], 'the webhook call')
  assert.match(String(call.headers['host']), /^hooks\.rebind\.invalid:\d+$/)
  assert.deepEqual(asked, ['hooks.rebind.invalid'])
})
