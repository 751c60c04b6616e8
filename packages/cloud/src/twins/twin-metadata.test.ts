import assert from 'node:assert/strict'
import { test } from 'node:test'
import { applyMergePatch } from '@strata/protocol'
import { depthOf, touchMetadata } from './twin-metadata.js'

// RFC 7396 Appendix A, every example.
const rfcExamples: [unknown, unknown, unknown][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [
    ['a', 'b'],
    ['c', 'd'],
    ['c', 'd'],
  ],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
]

test('applies every merge patch example of RFC 7396 appendix A, leaving its inputs alone', () => {
  for (const [target, patch, result] of rfcExamples) {
    const before = JSON.stringify(target)
    assert.deepEqual(applyMergePatch(target, patch), result, JSON.stringify(patch))
    assert.equal(JSON.stringify(target), before)
  }
})

test('keeps a __proto__ key a plain property', () => {
  const patched = applyMergePatch({}, JSON.parse('{"a": {"__proto__": {"x": 1}}}')) as {
    a: object
  }
  assert.deepEqual(Object.keys(patched.a), ['__proto__'])
  assert.equal(Object.getPrototypeOf(patched.a), Object.prototype)
  assert.equal(JSON.stringify(patched), '{"a":{"__proto__":{"x":1}}}')
})

test('counts depth, and stops counting past the bound', () => {
  assert.equal(depthOf(1), 0)
  assert.equal(depthOf({}), 1)
  assert.equal(depthOf({ a: [{ b: 1 }] }), 3)
  let deep: unknown = 1
  for (let i = 0; i < 100_000; i++) deep = [deep]
  assert.equal(depthOf(deep, 17), 17)
})

test('per-property times follow sets, merges, replacements and deletions', () => {
  let meta = touchMetadata({}, { a: 1, b: { c: 2, d: 3 }, 'x/y': 1 }, 10)
  assert.deepEqual(meta, { '/a': 10, '/b/c': 10, '/b/d': 10, '/x~1y': 10 })
  meta = touchMetadata(meta, { b: { c: 5 } }, 20)
  assert.deepEqual(meta, { '/a': 10, '/b/c': 20, '/b/d': 10, '/x~1y': 10 })
  meta = touchMetadata(meta, { b: 7, a: null }, 30)
  assert.deepEqual(meta, { '/b': 30, '/x~1y': 10 })
  meta = touchMetadata(meta, { b: { e: [1] } }, 40)
  assert.deepEqual(meta, { '/b/e': 40, '/x~1y': 10 })
})
