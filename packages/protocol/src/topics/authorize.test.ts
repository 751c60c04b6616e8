import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { authorizePublish, authorizeSubscribe, type TopicIdentity } from './authorize.js'
import { topicMatches } from './topic-name.js'
import { deviceTopics, parseTopicName, provisioningTopics } from './topic-tree.js'

const a: TopicIdentity = { kind: 'device', deviceId: 'pump-a' }
const t = deviceTopics('pump-a')
const other = deviceTopics('pump-b')

const allowedPub = (id: TopicIdentity, topic: string) => authorizePublish(id, topic).allowed
const allowedSub = (id: TopicIdentity, filter: string) => authorizeSubscribe(id, filter).allowed

describe('authorizePublish', () => {
  it('allows every up topic of its own namespace, in each format it accepts', () => {
    for (const topic of [
      t.telemetry(),
      t.telemetry('json'),
      t.telemetry('cbor'),
      t.telemetry('lp'),
      t.event('door-open'),
      t.event('door-open', 'cbor'),
      t.twinReported(),
      t.twinGet(),
      t.commandResponse('c-123'),
      t.firmwareProgress('cbor'),
      t.firmwareGet(),
    ]) {
      assert.equal(allowedPub(a, topic), true, topic)
    }
  })

  it('returns the parsed topic so the caller routes without parsing again', () => {
    const decision = authorizePublish(a, t.telemetry('cbor'))
    assert.deepEqual(decision, {
      allowed: true,
      topic: {
        kind: 'telemetry',
        namespace: 'devices',
        direction: 'up',
        owner: 'pump-a',
        format: 'cbor',
      },
    })
  })

  it('refuses another device namespace', () => {
    const decision = authorizePublish(a, other.telemetry())
    assert.equal(decision.allowed, false)
    assert.match(decision.reason, /pump-a may not use the namespace of device pump-b/)
  })

  it('refuses topics the cloud writes', () => {
    for (const topic of [
      t.twinDesired,
      t.twinDocument,
      t.twinRejected,
      t.commandRequest('reboot'),
      t.firmwareOffer,
    ]) {
      assert.equal(allowedPub(a, topic), false, topic)
    }
  })

  it('rejects PUBLISH with a wildcard topic [MQTT-3.3.2-2]', () => {
    assert.equal(allowedPub(a, 'strata/v1/devices/pump-a/+'), false)
    assert.equal(allowedPub(a, 'strata/v1/devices/pump-a/#'), false)
    assert.equal(allowedPub(a, 'strata/v1/devices/+/telemetry'), false)
  })

  it('refuses $-topics, empty levels, NUL, control characters, overlong and unknown topics', () => {
    for (const topic of [
      '$SYS/broker/load',
      '$share/g/strata/v1/devices/pump-a/telemetry',
      'strata/v1/devices/pump-a/telemetry/',
      'strata/v1/devices//telemetry',
      'strata//v1/devices/pump-a/telemetry',
      '/strata/v1/devices/pump-a/telemetry',
      'strata/v1/devices/pump-a/events/',
      'strata/v1/devices/pump-a/telemetry\u0000',
      'strata/v1/devices/pump-a\u0000/telemetry',
      'strata/v1/devices/pump-a/telemetry\u0007',
      `strata/v1/devices/pump-a/events/${'x'.repeat(600)}`,
      'strata/v1/devices/pump-a/telemetry/xml',
      'strata/v1/devices/pump-a/twin/reported/lp',
      'strata/v1/devices/pump-a',
      'strata/v2/devices/pump-a/telemetry',
      'STRATA/v1/devices/pump-a/telemetry',
      '',
      'strata/v1/devices/pump-a/\ud800',
    ]) {
      assert.equal(allowedPub(a, topic), false, JSON.stringify(topic))
    }
  })

  it('lets a gateway publish for its children and nobody else', () => {
    const gw: TopicIdentity = {
      kind: 'gateway',
      deviceId: 'gw-1',
      isChild: (id) => id === 'pump-a',
    }
    assert.equal(allowedPub(gw, deviceTopics('gw-1').telemetry()), true)
    assert.equal(allowedPub(gw, t.telemetry()), true)
    assert.equal(allowedPub(gw, other.telemetry()), false)
  })

  it('confines a provisioning client to its own request topic', () => {
    const p: TopicIdentity = { kind: 'provisioning', clientId: 'sn-42' }
    assert.equal(allowedPub(p, provisioningTopics('sn-42').request), true)
    assert.equal(allowedPub(p, provisioningTopics('sn-43').request), false)
    assert.equal(allowedPub(p, provisioningTopics('sn-42').response), false)
    assert.equal(allowedPub(p, deviceTopics('sn-42').telemetry()), false)
    assert.equal(allowedPub(a, provisioningTopics('pump-a').request), false)
  })
})

describe('authorizeSubscribe', () => {
  it('allows the down topics of its own namespace, + for a command name, and $share of them', () => {
    for (const filter of [
      t.twinDesired,
      t.twinDocument,
      t.twinRejected,
      t.commandRequests,
      t.commandRequest('reboot'),
      t.firmwareOffer,
      `$share/g1/${t.twinDesired}`,
    ]) {
      assert.equal(allowedSub(a, filter), true, filter)
    }
  })

  it('refuses wildcards that reach beyond what the device may read', () => {
    for (const filter of [
      '#',
      '+/#',
      'strata/#',
      'strata/v1/#',
      'strata/v1/devices/#',
      'strata/v1/devices/+/twin/desired',
      'strata/v1/+/pump-a/twin/desired',
      'strata/+/devices/pump-a/twin/desired',
      '+/v1/devices/pump-a/twin/desired',
      `${t.base}/#`,
      `${t.base}/+`,
      `${t.base}/twin/+`,
      `${t.base}/twin/#`,
      `${t.base}/commands/#`,
      `${t.base}/commands/+/+`,
      `${t.base}/+/request/+`,
      `${t.base}/telemetry`,
      `${t.base}/commands/response/+`,
      other.twinDesired,
      `$share/g/${other.twinDesired}`,
      `$share/g/#`,
      '$share/+/x',
      '$share//x',
      '$share/g',
      '$share/g/',
      '$SYS/#',
      '$SYS/broker/clients',
      `${t.base}/commands/request/a#`,
      `${t.base}/commands/request/a+`,
      `${t.base}/twin/desired/`,
      `${t.base}/commands/request/`,
    ]) {
      assert.equal(allowedSub(a, filter), false, filter)
    }
  })

  it('explains the refusal of # with the topic to use instead', () => {
    const d = authorizeSubscribe(a, `${t.base}/#`)
    assert.equal(d.allowed, false)
    assert.match(d.reason, /subscribe to each topic/)
  })

  it('confines a provisioning client to its response topic', () => {
    const p: TopicIdentity = { kind: 'provisioning', clientId: 'sn-42' }
    assert.equal(allowedSub(p, provisioningTopics('sn-42').response), true)
    assert.equal(allowedSub(p, provisioningTopics('sn-42').request), false)
    assert.equal(allowedSub(p, 'strata/v1/provisioning/+/response'), false)
    assert.equal(allowedSub(p, deviceTopics('sn-42').twinDesired), false)
  })
})

/** Topic levels that make up hostile filters and topics: real names, wildcards, junk. */
const level = fc.oneof(
  fc.constantFrom(
    'strata',
    'v1',
    'v2',
    'devices',
    'provisioning',
    'pump-a',
    'pump-b',
    'pump-a+',
    'sn-42',
  ),
  fc.constantFrom(
    '+',
    '#',
    '',
    '$share',
    '$SYS',
    'g',
    'twin',
    'desired',
    'reported',
    'document',
    'rejected',
  ),
  fc.constantFrom(
    'commands',
    'request',
    'response',
    'firmware',
    'offer',
    'telemetry',
    'events',
    'cbor',
    'lp',
    'json',
  ),
  fc.string({ maxLength: 4 }),
)
const randomTopic = fc
  .array(level, { minLength: 1, maxLength: 10 })
  .map((levels) => levels.join('/'))
/** Every real topic of a few namespaces: what a hostile filter could try to reach. */
const knownTopics = ['pump-a', 'pump-b', 'gw-1', 'sn-42'].flatMap((id) => {
  const d = deviceTopics(id)
  const p = provisioningTopics(id)
  return [
    d.telemetry(),
    d.telemetry('cbor'),
    d.event('x'),
    d.twinReported(),
    d.twinGet(),
    d.twinDesired,
    d.twinDocument,
    d.twinRejected,
    d.commandRequest('reboot'),
    d.commandResponse('c1'),
    d.firmwareOffer,
    d.firmwareProgress(),
    d.firmwareGet(),
    p.request,
    p.response,
  ]
})
/** A real topic with some levels swapped for wildcards or junk, cut short, or prefixed with $share. */
const mutatedTopic = fc
  .tuple(
    fc.constantFrom(...knownTopics),
    fc.array(fc.tuple(fc.nat(12), level), { maxLength: 3 }),
    fc.nat(12),
    fc.boolean(),
  )
  .map(([topic, swaps, cut, shared]) => {
    const levels = topic.split('/')
    for (const [at, value] of swaps) if (at < levels.length) levels[at] = value
    const filter = levels.slice(0, Math.max(1, levels.length - (cut % 3))).join('/')
    return shared ? `$share/g/${filter}` : filter
  })
const topicString = fc.oneof(randomTopic, mutatedTopic)
const identity = fc.constantFrom<TopicIdentity>(
  a,
  { kind: 'gateway', deviceId: 'gw-1', isChild: (id) => id === 'pump-a' },
  { kind: 'provisioning', clientId: 'sn-42' },
)
const owns = (id: TopicIdentity, owner: string) =>
  id.kind === 'provisioning'
    ? owner === id.clientId
    : owner === id.deviceId || (id.kind === 'gateway' && id.isChild(owner))

describe('the authoriser never lets an identity out of its namespace', () => {
  it('whatever topic it publishes to', () => {
    let allowedSeen = 0
    fc.assert(
      fc.property(identity, topicString, (id, topic) => {
        const d = authorizePublish(id, topic)
        if (!d.allowed) return
        allowedSeen++
        const parsed = parseTopicName(topic)
        assert.ok(
          parsed !== undefined && parsed.direction === 'up' && owns(id, parsed.owner),
          topic,
        )
      }),
      { numRuns: 20_000 },
    )
    assert.ok(allowedSeen > 100, `only ${String(allowedSeen)} topics allowed`)
  })

  it('whatever filter it subscribes to: every topic the filter matches is a down topic it owns', () => {
    let allowedSeen = 0
    fc.assert(
      fc.property(
        identity,
        topicString,
        fc.array(randomTopic, { maxLength: 5 }),
        (id, filter, extra) => {
          if (!authorizeSubscribe(id, filter).allowed) return
          allowedSeen++
          const inner = filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter
          for (const topic of [...knownTopics, ...extra]) {
            if (!topicMatches(inner, topic)) continue
            const parsed = parseTopicName(topic)
            assert.ok(
              parsed !== undefined && parsed.direction === 'down' && owns(id, parsed.owner),
              `${filter} reaches ${topic}`,
            )
          }
        },
      ),
      { numRuns: 20_000 },
    )
    // The property means something only if some filters were allowed.
    assert.ok(allowedSeen > 50, `only ${String(allowedSeen)} filters allowed`)
  })
})
