import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { deliveryFailed } from './delivery-failure.js'
import type { Delivery, DeliverySender } from './delivery-sender.js'
import type { DeliveryTarget, NatsTarget } from './delivery-target.js'
import { openOutbox, type Outbox } from './outbox.js'
import type { DeliveryMetrics, OutboxOptions } from './outbox-options.js'

/** A NATS sender that answers as `script` says and records what it was given. */
function fakeSender(script: (d: Delivery<NatsTarget>) => Promise<void> | void = () => undefined) {
  const sent: Delivery<NatsTarget>[] = []
  const sender: DeliverySender<NatsTarget> = {
    async send(delivery, signal) {
      sent.push(delivery)
      await Promise.race([
        script(delivery),
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        ),
      ])
    },
    close: () => Promise.resolve(),
  }
  return { sender, sent }
}

function subject(name: string): NatsTarget {
  return { type: 'nats', servers: ['nats://127.0.0.1:4222'], subject: name }
}

function open(
  t: TestContext,
  sender: DeliverySender<NatsTarget>,
  options: Partial<OutboxOptions> = {},
  extra: { path?: string; clock?: () => number; metrics?: DeliveryMetrics } = {},
): Outbox {
  let path = extra.path
  if (path === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'strata-outbox-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    path = join(dir, 'delivery.db')
  }
  const outbox = openOutbox(
    {
      path,
      senders: { nats: sender },
      ...(extra.clock ? { clock: extra.clock } : {}),
      ...(extra.metrics ? { metrics: extra.metrics } : {}),
    },
    {
      allowPrivateNetworks: true,
      backoff: { initialMs: 5, maxMs: 20, factor: 2 },
      ...options,
    },
  )
  t.after(() => outbox.close({ drainTimeoutMs: 0 }))
  return outbox
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

test('enqueue is synchronous, returns the id, and delivers in the background', async (t) => {
  const fake = fakeSender()
  const outbox = open(t, fake.sender)
  const id = outbox.enqueue({ target: subject('a'), message: { x: 1 } })
  assert.match(id, /^[0-9a-f-]{36}$/)
  assert.equal(outbox.stats().queued, 1)
  assert.equal(fake.sent.length, 0, 'nothing is sent inside enqueue')
  await until(() => outbox.stats().queued === 0, 'delivery')
  const [sent] = fake.sent
  assert.ok(sent)
  assert.equal(sent.id, id)
  assert.equal(sent.body, '{"x":1}')
  assert.equal(sent.attempt, 1)
})

test('an id already queued is queued once', (t) => {
  const fake = fakeSender(() => new Promise(() => undefined))
  const outbox = open(t, fake.sender)
  outbox.enqueue({ target: subject('a'), message: 1, id: 'rule-1:event-9' })
  outbox.enqueue({ target: subject('a'), message: 1, id: 'rule-1:event-9' })
  assert.equal(outbox.stats().queued, 1)
  assert.throws(() => outbox.enqueue({ target: subject('a'), message: 1, id: 'bad id\n' }), {
    code: 'CLOUD_DELIVERY_MESSAGE_INVALID',
  })
})

test('refuses messages beyond maxEntries with CLOUD_DELIVERY_QUEUE_FULL, and counts it', (t) => {
  const refused: string[] = []
  const fake = fakeSender(() => new Promise(() => undefined)) // never answers
  const outbox = open(
    t,
    fake.sender,
    { maxEntries: 3 },
    { metrics: { refused: (type, code) => refused.push(`${type} ${code}`) } },
  )
  for (let i = 0; i < 3; i++) outbox.enqueue({ target: subject('a'), message: i })
  assert.throws(() => outbox.enqueue({ target: subject('a'), message: 4 }), {
    code: 'CLOUD_DELIVERY_QUEUE_FULL',
  })
  assert.deepEqual(refused, ['nats CLOUD_DELIVERY_QUEUE_FULL'])
  assert.equal(outbox.stats().queued, 3)
})

test('refuses bad targets and messages at enqueue', (t) => {
  const outbox = open(t, fakeSender().sender, { maxMessageBytes: 100 })
  const cases: [unknown, unknown, string][] = [
    [{ type: 'smtp' }, 1, 'CLOUD_DELIVERY_TARGET_INVALID'],
    [{ ...subject('a'), subject: 'a.*' }, 1, 'CLOUD_DELIVERY_TARGET_INVALID'],
    [subject('a'), 'x'.repeat(200), 'CLOUD_DELIVERY_MESSAGE_INVALID'],
    [subject('a'), undefined, 'CLOUD_DELIVERY_MESSAGE_INVALID'],
    [subject('a'), { n: 1n }, 'CLOUD_DELIVERY_MESSAGE_INVALID'],
  ]
  for (const [target, message, code] of cases) {
    assert.throws(() => outbox.enqueue({ target: target as DeliveryTarget, message }), { code })
  }
  assert.equal(outbox.stats().queued, 0)
})

test('retries a failing delivery up to maxAttempts, then dead-letters it', async (t) => {
  const fake = fakeSender(() => {
    throw deliveryFailed('broker said no', { retryable: true })
  })
  const outbox = open(t, fake.sender, { maxAttempts: 3 })
  const id = outbox.enqueue({ target: subject('a'), message: { n: 1 } })
  await until(() => outbox.stats().deadLetters === 1, 'the dead letter')
  assert.deepEqual(
    fake.sent.map((d) => d.attempt),
    [1, 2, 3],
  )
  const [dead] = outbox.listDeadLetters()
  assert.ok(dead)
  assert.equal(dead.id, id)
  assert.equal(dead.attempts, 3)
  assert.equal(dead.lastError.message, 'broker said no')
  assert.equal(outbox.stats().queued, 0)
})

test('dead-letters a message older than maxAgeMs after its failed attempt', async (t) => {
  let skew = 0
  const fake = fakeSender(() => {
    skew += 60_000 // each attempt "takes" a minute
    throw deliveryFailed('down', { retryable: true })
  })
  const clock = () => Date.now() + skew
  const outbox = open(t, fake.sender, { maxAgeMs: 90_000, maxAttempts: 100 }, { clock })
  outbox.enqueue({ target: subject('a'), message: 1 })
  await until(() => outbox.stats().deadLetters === 1, 'the dead letter')
  assert.equal(fake.sent.length, 2)
})

test('a dead letter can be retried (same id, fresh attempts) and purged', async (t) => {
  let fail = true
  const fake = fakeSender(() => {
    if (fail) throw deliveryFailed('rejected', { retryable: false })
  })
  const outbox = open(t, fake.sender)
  const id = outbox.enqueue({ target: subject('a'), message: { keep: true } })
  await until(() => outbox.stats().deadLetters === 1, 'the dead letter')
  fail = false
  outbox.retryDeadLetter(id)
  assert.equal(outbox.stats().deadLetters, 0)
  await until(() => outbox.stats().queued === 0, 'redelivery')
  assert.deepEqual(
    fake.sent.map((d) => [d.id, d.attempt]),
    [
      [id, 1],
      [id, 1],
    ],
  )
  assert.throws(() => outbox.retryDeadLetter(id), { code: 'CLOUD_NOT_FOUND' })

  fail = true
  outbox.enqueue({ target: subject('a'), message: 2 })
  outbox.enqueue({ target: subject('a'), message: 3 })
  await until(() => outbox.stats().deadLetters === 2, 'two dead letters')
  assert.equal(outbox.purgeDeadLetters({ before: 0 }), 0)
  assert.equal(outbox.purgeDeadLetters(), 2)
  assert.equal(outbox.stats().deadLetters, 0)
})

test('keeps at most maxDeadLetters, dropping the oldest', async (t) => {
  const fake = fakeSender(() => {
    throw deliveryFailed('no', { retryable: false })
  })
  const outbox = open(t, fake.sender, { maxDeadLetters: 2 })
  const ids = [1, 2, 3].map((n) =>
    outbox.enqueue({ target: subject('a'), message: n, id: `m${String(n)}` }),
  )
  await until(() => fake.sent.length === 3 && outbox.stats().queued === 0, 'three failures')
  assert.deepEqual(
    outbox.listDeadLetters().map((d) => d.id),
    ids.slice(1),
  )
})

test('limits concurrency per target and lets other targets through', async (t) => {
  const release: (() => void)[] = []
  const fake = fakeSender(
    (d) =>
      new Promise<void>((resolve) => {
        if (d.target.subject === 'slow') release.push(resolve)
        else resolve()
      }),
  )
  const outbox = open(t, fake.sender, { perTargetConcurrency: 2, concurrency: 10 })
  for (let i = 0; i < 6; i++) outbox.enqueue({ target: subject('slow'), message: i })
  outbox.enqueue({ target: subject('fast'), message: 'x' })
  await until(() => fake.sent.some((d) => d.target.subject === 'fast'), 'the fast target')
  await sleep(30)
  assert.equal(release.length, 2, 'two in flight to the slow target')
  while (outbox.stats().queued > 0) {
    release.shift()?.()
    await sleep(5)
  }
  assert.equal(fake.sent.filter((d) => d.target.subject === 'slow').length, 6)
})

test('pauses a failing target: a backlog is probed, not hammered', async (t) => {
  const fake = fakeSender(() => {
    throw deliveryFailed('connection refused', { retryable: true })
  })
  const outbox = open(t, fake.sender, {
    perTargetConcurrency: 1,
    backoff: { initialMs: 100, maxMs: 100, factor: 1 },
  })
  for (let i = 0; i < 50; i++) outbox.enqueue({ target: subject('down'), message: i })
  await sleep(250)
  // Without the pause every message would have had an attempt by now.
  assert.ok(fake.sent.length <= 5, `${String(fake.sent.length)} attempts in 250 ms`)
  assert.equal(outbox.stats().queued, 50)
})

test('close() waits for deliveries in flight up to drainTimeoutMs', async (t) => {
  const fake = fakeSender(() => sleep(50))
  const outbox = open(t, fake.sender)
  outbox.enqueue({ target: subject('a'), message: 1 })
  await until(() => fake.sent.length === 1, 'the attempt')
  await outbox.close({ drainTimeoutMs: 2_000 })
  await outbox.close() // idempotent
  assert.throws(() => outbox.enqueue({ target: subject('a'), message: 2 }), {
    code: 'CLOUD_DELIVERY_CLOSED',
  })
})

test('refuses a file that is not an outbox with CLOUD_STATE_CORRUPT', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-outbox-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'delivery.db')
  writeFileSync(path, 'this is not SQLite, and long enough to have a header'.repeat(10))
  assert.throws(() => openOutbox({ path }), { code: 'CLOUD_STATE_CORRUPT' })
})
