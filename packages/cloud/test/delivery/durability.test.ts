import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { openOutbox } from '../../src/rules/delivery/index.js'
import { fastOptions, secret, startReceiver, tempDir, waitFor, defer } from './helpers.js'

const child = fileURLToPath(new URL('./fixtures/outbox-child.ts', import.meta.url))

test('a delivery in flight when the process is killed is delivered again after restart', async (t) => {
  // The first call never gets an answer: the node is killed while it waits.
  const receiver = await startReceiver(t, (_call, n) =>
    n === 1 ? { status: 200, delayMs: 60_000 } : { status: 200 },
  )
  const path = join(tempDir(t), 'delivery.db')
  const node = spawn(
    process.execPath,
    ['--conditions=strata-source', '--import', 'tsx', child, path, receiver.url, secret],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  defer(t, () => node.kill('SIGKILL'))
  await waitFor(() => receiver.calls.length === 1, 'the first attempt', 20_000)
  node.kill('SIGKILL')
  await new Promise((resolve) => node.once('exit', resolve))

  const outbox = openOutbox({ path }, fastOptions)
  defer(t, () => outbox.close())
  await waitFor(() => receiver.calls.length === 2, 'the attempt after the restart')
  await waitFor(() => outbox.stats().queued === 0, 'the entry to be confirmed')
  const [first, second] = receiver.calls
  assert.ok(first && second)
  assert.equal(first.headers['x-strata-delivery'], 'crash-1')
  assert.equal(second.headers['x-strata-delivery'], 'crash-1', 'the same id, for dedupe')
  assert.equal(second.headers['x-strata-attempt'], '2', 'the killed attempt counted')
  assert.deepEqual(JSON.parse(second.body.toString()), { crash: 'test' })
})

test('close without drain abandons the attempt; reopening delivers it again', async (t) => {
  const receiver = await startReceiver(t, (_call, n) =>
    n === 1 ? { status: 200, delayMs: 60_000 } : { status: 204 },
  )
  const path = join(tempDir(t), 'delivery.db')
  const target = { type: 'webhook', url: receiver.url, secret, timeoutMs: 30_000 } as const
  const first = openOutbox({ path }, fastOptions)
  defer(t, () => first.close({ drainTimeoutMs: 0 }))
  const id = first.enqueue({ target, message: { n: 1 } })
  await waitFor(() => receiver.calls.length === 1, 'the first attempt')
  await first.close({ drainTimeoutMs: 0 })

  const second = openOutbox({ path }, fastOptions)
  defer(t, () => second.close())
  await waitFor(() => second.stats().queued === 0, 'redelivery')
  assert.deepEqual(
    receiver.calls.map((c) => [c.headers['x-strata-delivery'], c.headers['x-strata-attempt']]),
    [
      [id, '1'],
      [id, '1'], // abandoned on close, so not counted
    ],
  )
})

test('the queue bound and the dead letters survive a restart', async (t) => {
  const receiver = await startReceiver(t, (call) =>
    JSON.parse(call.body.toString()).bad === true
      ? { status: 422 }
      : { status: 200, delayMs: 60_000 },
  )
  const path = join(tempDir(t), 'delivery.db')
  const target = { type: 'webhook', url: receiver.url, secret, timeoutMs: 30_000 } as const
  const options = { ...fastOptions, maxEntries: 3 }
  const first = openOutbox({ path }, options)
  defer(t, () => first.close({ drainTimeoutMs: 0 }))
  const bad = first.enqueue({ target, message: { bad: true } })
  await waitFor(() => first.stats().deadLetters === 1, 'the dead letter')
  for (let i = 0; i < 3; i++) first.enqueue({ target, message: { i } })
  assert.throws(() => first.enqueue({ target, message: { i: 4 } }), {
    code: 'CLOUD_DELIVERY_QUEUE_FULL',
  })
  await first.close({ drainTimeoutMs: 0 })

  const second = openOutbox({ path }, options)
  defer(t, () => second.close({ drainTimeoutMs: 0 }))
  assert.equal(second.stats().queued, 3)
  assert.throws(() => second.enqueue({ target, message: { i: 5 } }), {
    code: 'CLOUD_DELIVERY_QUEUE_FULL',
  })
  assert.throws(() => second.retryDeadLetter(bad), { code: 'CLOUD_DELIVERY_QUEUE_FULL' })
  const [dead] = second.listDeadLetters()
  assert.ok(dead)
  assert.equal(dead.id, bad)
  assert.equal(dead.lastError.status, 422)
})
