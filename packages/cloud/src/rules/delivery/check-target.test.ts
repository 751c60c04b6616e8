import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkDeliveryTarget, parseDeliveryTarget } from './check-target.js'
import { redactTarget, targetKeyOf, targetLabelOf } from './target-identity.js'

const strict = { allowPrivateNetworks: false }
const open = { allowPrivateNetworks: true }
const secret = 'k'.repeat(32)
const publicDns = () => Promise.resolve(['93.184.215.14'])

function refusedWith(value: unknown, field: string, policy = strict): void {
  assert.throws(
    () => parseDeliveryTarget(value, policy),
    (err: { code: string; details: { field: string } }) =>
      err.code === 'CLOUD_DELIVERY_TARGET_INVALID' && err.details.field === field,
    JSON.stringify(value),
  )
}

test('webhook: http(s) only, no credentials, a 32-byte secret, no reserved headers', () => {
  const ok = parseDeliveryTarget(
    { type: 'webhook', url: 'https://hooks.example.com/a', secret },
    strict,
  )
  assert.deepEqual(ok, {
    type: 'webhook',
    url: 'https://hooks.example.com/a',
    secret,
    timeoutMs: 10_000,
  })
  const hook = (extra: object) => ({
    type: 'webhook',
    url: 'https://h.example/x',
    secret,
    ...extra,
  })
  refusedWith(hook({ url: 'ftp://h.example/x' }), 'target/url')
  refusedWith(hook({ url: 'file:///etc/passwd' }), 'target/url')
  refusedWith(hook({ url: 'https://u:p@h.example/x' }), 'target/url')
  refusedWith(hook({ url: 'https://u@h.example/x' }), 'target/url')
  refusedWith(hook({ url: 'not a url' }), 'target/url')
  refusedWith(hook({ url: 'http://169.254.169.254/latest' }), 'target/url')
  refusedWith(hook({ url: 'http://[fd00::1]/' }), 'target/url')
  refusedWith(hook({ secret: 'short' }), 'target/secret')
  refusedWith(hook({ secret: 'k'.repeat(31) }), 'target/secret')
  refusedWith(hook({ headers: { 'X-Strata-Signature': 'v1=forged' } }), 'target/headers')
  refusedWith(hook({ headers: { Host: 'internal' } }), 'target/headers')
  refusedWith(hook({ headers: { 'X-A': 'b\r\nInjected: 1' } }), 'target/headers/X-A')
  refusedWith(hook({ timeoutMs: 10 }), 'target/timeoutMs')
  refusedWith(hook({ extra: 1 }), 'target')
  // A private literal is fine once the operator allows private networks.
  parseDeliveryTarget(hook({ url: 'http://10.0.0.5:8080/x' }), open)
})

test('amqp: amqp(s) URLs with credentials; persistent and mandatory by default', () => {
  const target = parseDeliveryTarget(
    {
      type: 'amqp',
      url: 'amqps://app:pw@mq.example.com/prod',
      exchange: 'alerts',
      routingKey: 'hot',
    },
    strict,
  )
  assert.deepEqual(target, {
    type: 'amqp',
    url: 'amqps://app:pw@mq.example.com/prod',
    exchange: 'alerts',
    routingKey: 'hot',
    persistent: true,
    mandatory: true,
  })
  const amqp = (extra: object) => ({
    type: 'amqp',
    url: 'amqp://mq.example',
    exchange: 'x',
    routingKey: 'k',
    ...extra,
  })
  refusedWith(amqp({ url: 'http://mq.example' }), 'target/url')
  refusedWith(amqp({ url: 'amqp://127.0.0.1' }), 'target/url')
  refusedWith(amqp({ exchange: 'bad exchange!' }), 'target/exchange')
})

test('nats: nats/tls servers without credentials, a publish subject, an optional token', () => {
  parseDeliveryTarget(
    {
      type: 'nats',
      servers: ['nats.example.com:4222', 'tls://n2.example.com'],
      subject: 'a.b',
      token: 't',
    },
    strict,
  )
  const nats = (extra: object) => ({
    type: 'nats',
    servers: ['nats://n.example'],
    subject: 's',
    ...extra,
  })
  refusedWith(nats({ servers: ['nats://u:p@n.example'] }), 'target/servers/0')
  refusedWith(nats({ servers: ['http://n.example'] }), 'target/servers/0')
  refusedWith(nats({ servers: ['nats://n.example', '127.0.0.1:4222'] }), 'target/servers/1')
  refusedWith(nats({ servers: [] }), 'target/servers')
  refusedWith(nats({ subject: 'a.*' }), 'target/subject')
  refusedWith(nats({ subject: 'a.>' }), 'target/subject')
  refusedWith(nats({ subject: 'a..b' }), 'target/subject')
  refusedWith({ type: 'kafka' }, 'target/type')
  refusedWith(null, 'target/type')
})

test('checkDeliveryTarget resolves names and refuses private answers', async () => {
  const hook = { type: 'webhook', url: 'https://hooks.example.com/a', secret }
  await checkDeliveryTarget(hook, strict, publicDns)
  await assert.rejects(
    checkDeliveryTarget(hook, strict, () => Promise.resolve(['192.168.0.10'])),
    { code: 'CLOUD_DELIVERY_TARGET_INVALID' },
  )
  await checkDeliveryTarget(hook, open, () => Promise.resolve(['192.168.0.10']))
})

test('keys group deliveries without exposing secrets; labels and redaction hide them', () => {
  const a = parseDeliveryTarget(
    { type: 'webhook', url: 'https://h.example/x?token=abc', secret },
    strict,
  )
  const b = parseDeliveryTarget(
    { type: 'webhook', url: 'https://h.example/x?token=abc', secret: 'z'.repeat(40) },
    strict,
  )
  const c = parseDeliveryTarget({ type: 'webhook', url: 'https://h.example/y', secret }, strict)
  assert.equal(targetKeyOf(a), targetKeyOf(b))
  assert.notEqual(targetKeyOf(a), targetKeyOf(c))
  assert.doesNotMatch(targetKeyOf(a), /abc|kkkk/)
  assert.equal(targetLabelOf(a), 'https://h.example/x')
  const mq = parseDeliveryTarget(
    { type: 'amqp', url: 'amqp://app:s3cret@mq.example:5672/prod', exchange: 'e', routingKey: 'r' },
    strict,
  )
  assert.equal(targetLabelOf(mq), 'amqp://mq.example:5672/prod exchange=e')
  assert.doesNotMatch(JSON.stringify(redactTarget(mq)), /s3cret/)
  assert.doesNotMatch(JSON.stringify(redactTarget(a)), /kkkk/)
  const n = parseDeliveryTarget(
    { type: 'nats', servers: ['n.example:4222'], subject: 's', token: 'tok123' },
    strict,
  )
  assert.doesNotMatch(JSON.stringify(redactTarget(n)) + targetLabelOf(n), /tok123/)
})
