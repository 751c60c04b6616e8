import assert from 'node:assert/strict'
import { test } from 'node:test'
import { depthOf, touchMetadata } from './twin-metadata.js'

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
