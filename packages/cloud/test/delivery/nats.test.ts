import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect } from 'nats'
import { testNatsUrl, uniqueSubject } from '../../../../test-support/nats.js'
import type { NatsTarget } from '../../src/rules/delivery/index.js'
import { outboxFor, startProxy, waitFor, defer } from './helpers.js'

test('a subscriber receives the message on the subject, with its id', async (t) => {
  const url = await testNatsUrl()
  const nc = await connect({ servers: [url] })
  defer(t, () => nc.close())
  const subject = uniqueSubject('rule')
  const sub = nc.subscribe(subject)
  const received: { data: string; id: string | undefined }[] = []
  void (async () => {
    for await (const m of sub) {
      received.push({ data: new TextDecoder().decode(m.data), id: m.headers?.get('Nats-Msg-Id') })
    }
  })()
  await nc.flush()
  const outbox = outboxFor(t)
  const target: NatsTarget = { type: 'nats', servers: [url], subject }
  const id = outbox.enqueue({ target, message: { alarm: 'door open' } })
  await waitFor(() => received.length === 1, 'the message')
  assert.deepEqual(received, [{ data: '{"alarm":"door open"}', id }])
  await waitFor(() => outbox.stats().queued === 0, 'the flush')
})

test('a server that is unreachable is retried; delivered once it answers', async (t) => {
  const url = new URL(await testNatsUrl())
  const proxy = await startProxy(t, url.hostname, Number(url.port || 4222))
  proxy.setUp(false)
  const nc = await connect({ servers: [url.toString()] })
  defer(t, () => nc.close())
  const subject = uniqueSubject('late')
  const sub = nc.subscribe(subject, { max: 1 })
  await nc.flush()
  const outcomes: string[] = []
  const outbox = outboxFor(t, {}, { metrics: { attempted: (_type, o) => outcomes.push(o) } })
  outbox.enqueue({
    target: { type: 'nats', servers: [`nats://127.0.0.1:${String(proxy.port)}`], subject },
    message: 1,
  })
  await waitFor(() => outcomes.filter((o) => o === 'retry').length >= 2, 'two failed attempts')
  proxy.setUp(true)
  for await (const m of sub) assert.equal(new TextDecoder().decode(m.data), '1')
  await waitFor(() => outbox.stats().queued === 0, 'the flush')
})
