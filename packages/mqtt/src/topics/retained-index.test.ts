import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { BrokerMessage } from '../message.js'
import { RetainedIndex } from './retained-index.js'

function message(topic: string, payload = 'x'): BrokerMessage {
  return {
    topic,
    payload: new TextEncoder().encode(payload),
    qos: 0,
    retain: true,
    properties: {},
    createdAtMs: 0,
  }
}

function indexOf(...topics: string[]): RetainedIndex {
  const index = new RetainedIndex()
  for (const topic of topics) index.set(message(topic))
  return index
}

/** The topics of the retained messages `filter` reaches, sorted. */
function matches(index: RetainedIndex, filter: string): string[] {
  const found: string[] = []
  index.forEachMatch(filter, (m) => found.push(m.topic))
  return found.sort()
}

describe('RetainedIndex storage', () => {
  it('replaces the message of a topic, keeping the size [MQTT-3.3.1-5]', () => {
    const index = new RetainedIndex()
    index.set(message('a/b', 'one'))
    const second = message('a/b', 'two')
    index.set(second)
    assert.equal(index.size, 1)
    assert.equal(index.get('a/b'), second)
    assert.deepEqual([...index.values()], [second])
    const found: BrokerMessage[] = []
    index.forEachMatch('a/+', (m) => found.push(m))
    assert.deepEqual(found, [second])
  })

  it('deletes a topic and reports whether it was there', () => {
    const index = indexOf('a/b', 'a/c')
    assert.equal(index.delete('a/b'), true)
    assert.equal(index.delete('a/b'), false)
    assert.equal(index.delete('a'), false)
    assert.equal(index.get('a/b'), undefined)
    assert.equal(index.size, 1)
    assert.deepEqual(matches(index, 'a/#'), ['a/c'])
  })

  it('prunes emptied branches: nothing matches and the topic can be set again', () => {
    const index = indexOf('a/b/c', '$SYS/x', 'a//')
    for (const topic of ['a/b/c', '$SYS/x', 'a//']) assert.equal(index.delete(topic), true)
    assert.equal(index.size, 0)
    for (const filter of ['#', '+/+/+', 'a/#', '$SYS/#'])
      assert.deepEqual(matches(index, filter), [])
    index.set(message('a/b/c'))
    assert.deepEqual(matches(index, 'a/+/c'), ['a/b/c'])
  })

  it('keeps a topic below one that is deleted, and above', () => {
    const index = indexOf('a', 'a/b', 'a/b/c')
    index.delete('a/b')
    assert.deepEqual(matches(index, '#'), ['a', 'a/b/c'])
    index.delete('a/b/c')
    assert.deepEqual(matches(index, '#'), ['a'])
  })
})

describe('RetainedIndex matching', () => {
  const index = indexOf('a', 'a/b', 'a/c', 'a/b/c', 'a/', 'a//c', '/', '/a', 'b', '$SYS', '$SYS/x')

  it('finds a literal filter by its topic only [MQTT-4.7.3-4]', () => {
    assert.deepEqual(matches(index, 'a/b'), ['a/b'])
    assert.deepEqual(matches(index, 'a/'), ['a/'])
    assert.deepEqual(matches(index, 'A/b'), [])
    assert.deepEqual(matches(index, 'a/b/c/d'), [])
  })

  it('+ matches exactly one level, an empty one too (§4.7.1.3)', () => {
    assert.deepEqual(matches(index, 'a/+'), ['a/', 'a/b', 'a/c'])
    assert.deepEqual(matches(index, 'a/+/c'), ['a//c', 'a/b/c'])
    assert.deepEqual(matches(index, '+/+'), ['/', '/a', 'a/', 'a/b', 'a/c'])
  })

  it('matches the parent level with # (§4.7.1.2)', () => {
    assert.deepEqual(matches(index, 'a/#'), ['a', 'a/', 'a//c', 'a/b', 'a/b/c', 'a/c'])
    assert.deepEqual(matches(index, 'a/b/#'), ['a/b', 'a/b/c'])
    assert.deepEqual(matches(index, '+/#'), matches(index, '#'))
  })

  it('does not match $SYS/x with # or + [MQTT-4.7.2-1]', () => {
    assert.deepEqual(matches(index, '#'), [
      '/',
      '/a',
      'a',
      'a/',
      'a//c',
      'a/b',
      'a/b/c',
      'a/c',
      'b',
    ])
    assert.deepEqual(matches(index, '+'), ['a', 'b'])
    assert.deepEqual(matches(index, '+/x'), [])
  })

  it('matches $ topics with a filter that names the $ level [MQTT-4.7.2-1]', () => {
    assert.deepEqual(matches(index, '$SYS/#'), ['$SYS', '$SYS/x'])
    assert.deepEqual(matches(index, '$SYS/+'), ['$SYS/x'])
    assert.deepEqual(matches(index, '$SYS'), ['$SYS'])
  })

  it('treats $ as an ordinary character below the first level [MQTT-4.7.2-1]', () => {
    const dollar = indexOf('a/$x', 'a/$x/y')
    assert.deepEqual(matches(dollar, 'a/+'), ['a/$x'])
    assert.deepEqual(matches(dollar, 'a/#'), ['a/$x', 'a/$x/y'])
  })
})
