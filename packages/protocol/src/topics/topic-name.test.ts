import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ProtocolError } from '../errors/protocol-error.js'
import { checkTopic, parseSharedFilter, parseTopic, topicMatches } from './topic-name.js'

describe('checkTopic', () => {
  it('accepts valid names and filters and splits them into levels', () => {
    assert.deepEqual(checkTopic('a/b/c', 'name'), { ok: true, levels: ['a', 'b', 'c'] })
    assert.deepEqual(checkTopic('a/+/#', 'filter'), { ok: true, levels: ['a', '+', '#'] })
    assert.deepEqual(checkTopic('/', 'name'), { ok: true, levels: ['', ''] })
  })

  it('rejects an empty topic [MQTT-4.7.3-1]', () => {
    assert.equal(checkTopic('', 'name').ok, false)
    assert.equal(checkTopic('', 'filter').ok, false)
  })

  it('rejects # that is not alone and last [MQTT-4.7.1-1] and + not alone [MQTT-4.7.1-2]', () => {
    for (const f of ['a/#/b', 'a#', 'a/b#', '#/a', 'a/+b', 'a/b+/c'])
      assert.equal(checkTopic(f, 'filter').ok, false, f)
  })

  it('rejects NUL [MQTT-1.5.4-2], control characters and lone surrogates [MQTT-1.5.4-1]', () => {
    for (const x of ['a\u0000b', 'a\u001fb', 'a\u007fb', 'a\u0085b', 'a\ud800', '\udc00a']) {
      assert.equal(checkTopic(x, 'name').ok, false, JSON.stringify(x))
    }
    assert.equal(checkTopic('caf\u00e9/\u{1f600}', 'name').ok, true)
  })

  it('enforces the byte and level limits', () => {
    assert.equal(
      checkTopic('é'.repeat(257), 'name', { maxTopicBytes: 512, maxTopicLevels: 16 }).ok,
      false,
    )
    assert.equal(
      checkTopic('é'.repeat(256), 'name', { maxTopicBytes: 512, maxTopicLevels: 16 }).ok,
      true,
    )
    assert.equal(checkTopic(Array(17).fill('a').join('/'), 'name').ok, false)
  })

  it('parseTopic throws PROTOCOL_TOPIC_INVALID with the reason', () => {
    assert.throws(
      () => parseTopic('a/+', 'name'),
      (e: unknown) =>
        e instanceof ProtocolError &&
        e.code === 'PROTOCOL_TOPIC_INVALID' &&
        /wildcards/.test(e.message),
    )
  })

  it('never throws on any string', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 64 }),
        (s) => void checkTopic(s, 'filter'),
      ),
    )
  })
})

describe('parseSharedFilter', () => {
  it('splits $share/{group}/{filter} [MQTT-4.8.2-1, MQTT-4.8.2-2]', () => {
    assert.deepEqual(parseSharedFilter('$share/g/a/b'), { group: 'g', filter: 'a/b' })
    assert.equal(parseSharedFilter('a/b'), undefined)
    for (const f of ['$share/g', '$share//a', '$share/+/a', '$share/g#/a', '$share/g/'])
      assert.ok(parseSharedFilter(f) && 'error' in (parseSharedFilter(f) ?? {}), f)
  })
})

describe('topicMatches', () => {
  it('follows MQTT §4.7 wildcard semantics', () => {
    assert.equal(topicMatches('a/#', 'a'), true) // # matches the parent level [MQTT-4.7.1-2]
    assert.equal(topicMatches('a/+', 'a/'), true) // + matches an empty level
    assert.equal(topicMatches('a/+', 'a/b/c'), false)
    assert.equal(topicMatches('+/+', '/a'), true)
    assert.equal(topicMatches('#', '$SYS/x'), false) // [MQTT-4.7.2-1]
    assert.equal(topicMatches('+/x', '$SYS/x'), false)
    assert.equal(topicMatches('$SYS/#', '$SYS/x'), true)
  })
})
