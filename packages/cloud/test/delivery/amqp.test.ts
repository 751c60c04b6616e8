import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import amqp, { type Channel, type ConsumeMessage } from 'amqplib'
import { testAmqpUrl, uniqueName } from '../../../../test-support/rabbitmq.js'
import type { AmqpTarget } from '../../src/rules/delivery/index.js'
import { outboxFor, startProxy, waitFor, defer } from './helpers.js'

/** An exchange of its own with a queue bound to `binding`, collecting what arrives. */
async function exchangeWithQueue(t: TestContext, binding: string) {
  const url = await testAmqpUrl()
  const conn = await amqp.connect(url)
  const ch: Channel = await conn.createChannel()
  const exchange = uniqueName('ex')
  await ch.assertExchange(exchange, 'topic', { durable: false })
  defer(t, async () => {
    await ch.deleteExchange(exchange)
    await conn.close()
  })
  const { queue } = await ch.assertQueue('', { exclusive: true })
  await ch.bindQueue(queue, exchange, binding)
  const received: ConsumeMessage[] = []
  await ch.consume(queue, (m) => m && received.push(m), { noAck: true })
  return { url, ch, exchange, received }
}

test('publishes to an exchange; a bound queue receives it, persistent, with the id', async (t) => {
  const { url, exchange, received } = await exchangeWithQueue(t, 'alarm.#')
  const outbox = outboxFor(t)
  const target: AmqpTarget = { type: 'amqp', url, exchange, routingKey: 'alarm.hot' }
  const id = outbox.enqueue({ target, message: { device: 'd1', temp: 91 } })
  const [message] = await waitFor(() => received.length > 0 && received, 'the message')
  assert.ok(message)
  assert.deepEqual(JSON.parse(message.content.toString()), { device: 'd1', temp: 91 })
  assert.equal(message.properties.messageId, id)
  assert.equal(message.properties.deliveryMode, 2)
  assert.equal(message.properties.contentType, 'application/json')
  assert.equal(message.fields.routingKey, 'alarm.hot')
  await waitFor(() => outbox.stats().queued === 0, 'the confirm')
})

test('a broker that is down is retried; delivered once it is back, and after a cut', async (t) => {
  const { url, exchange, received } = await exchangeWithQueue(t, '#')
  const broker = new URL(url)
  const proxy = await startProxy(t, broker.hostname, Number(broker.port || 5672))
  proxy.setUp(false)
  const viaProxy = new URL(url)
  viaProxy.host = `127.0.0.1:${String(proxy.port)}`
  const outcomes: string[] = []
  const outbox = outboxFor(t, {}, { metrics: { attempted: (_type, o) => outcomes.push(o) } })
  const target: AmqpTarget = { type: 'amqp', url: viaProxy.toString(), exchange, routingKey: 'k' }
  outbox.enqueue({ target, message: { n: 1 } })
  await waitFor(() => outcomes.filter((o) => o === 'retry').length >= 2, 'two failed attempts')
  assert.equal(received.length, 0)
  proxy.setUp(true)
  await waitFor(() => received.length === 1, 'delivery once the broker is back')

  proxy.cutAll() // the broker drops the connection: the next publish opens a new one
  outbox.enqueue({ target, message: { n: 2 } })
  await waitFor(() => received.length === 2, 'delivery after the cut')
  assert.deepEqual(
    received.map((m) => JSON.parse(m.content.toString())),
    [{ n: 1 }, { n: 2 }],
  )
})

test('an unroutable message is retried, then dead-lettered', async (t) => {
  const { url, exchange, received } = await exchangeWithQueue(t, 'bound')
  const outbox = outboxFor(t, { maxAttempts: 2 })
  outbox.enqueue({ target: { type: 'amqp', url, exchange, routingKey: 'nobody' }, message: 1 })
  const [dead] = await waitFor(() => {
    const list = outbox.listDeadLetters()
    return list.length > 0 && list
  }, 'the dead letter')
  assert.match(dead?.lastError.message ?? '', /no queue is bound/)
  assert.equal(dead?.attempts, 2)
  assert.equal(received.length, 0)
})

test('a missing exchange fails the attempt; created later, the message goes through', async (t) => {
  const url = await testAmqpUrl()
  const exchange = uniqueName('late')
  const outcomes: string[] = []
  const outbox = outboxFor(t, {}, { metrics: { attempted: (_type, o) => outcomes.push(o) } })
  outbox.enqueue({ target: { type: 'amqp', url, exchange, routingKey: 'k' }, message: 'late' })
  await waitFor(() => outcomes.includes('retry'), 'a failed attempt')
  const conn = await amqp.connect(url)
  const ch = await conn.createChannel()
  await ch.assertExchange(exchange, 'fanout', { durable: false })
  defer(t, async () => {
    await ch.deleteExchange(exchange)
    await conn.close()
  })
  const { queue } = await ch.assertQueue('', { exclusive: true })
  await ch.bindQueue(queue, exchange, '')
  const received: string[] = []
  await ch.consume(queue, (m) => m && received.push(m.content.toString()), { noAck: true })
  await waitFor(() => received.length === 1, 'the message')
  assert.deepEqual(received, ['"late"'])
})

test('connects to the address its policy checked: the broker name is looked up once, by the checking resolver', async (t) => {
  const { url, exchange, received } = await exchangeWithQueue(t, '#')
  const broker = new URL(url)
  const asked: string[] = []
  const outbox = outboxFor(
    t,
    { allowPrivateNetworks: true },
    {
      resolve: (host) => {
        asked.push(host)
        return Promise.resolve([broker.hostname === 'localhost' ? '127.0.0.1' : broker.hostname])
      },
    },
  )
  // A name no real DNS knows: the message arrives only if the socket used this resolver.
  const named = new URL(url)
  named.hostname = 'broker.rebind.invalid'
  const target: AmqpTarget = { type: 'amqp', url: named.toString(), exchange, routingKey: 'k' }
  outbox.enqueue({ target, message: { n: 1 } })
  await waitFor(() => received.length === 1, 'the message')
  assert.deepEqual(asked, ['broker.rebind.invalid'])

  // The same resolver answering with a private address is refused under the strict policy.
  const strict = outboxFor(
    t,
    { allowPrivateNetworks: false },
    { resolve: () => Promise.resolve(['10.9.8.7']) },
  )
  strict.enqueue({ target, message: { n: 2 } })
  const [dead] = await waitFor(() => {
    const list = strict.listDeadLetters()
    return list.length > 0 && list
  }, 'the dead letter')
  assert.equal(dead?.lastError.code, 'CLOUD_DELIVERY_ADDRESS_FORBIDDEN')
})
