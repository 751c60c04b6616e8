import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { applyMergePatch } from './merge-patch.js'

describe('applyMergePatch', () => {
  it('passes the examples of RFC 7396 appendix A', () => {
    const cases: [unknown, unknown, unknown][] = [
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
    for (const [target, patch, want] of cases) {
      assert.deepEqual(
        applyMergePatch(target, patch),
        want,
        `${JSON.stringify(target)} + ${JSON.stringify(patch)}`,
      )
    }
  })

  it('modifies neither argument', () => {
    const target = { a: { b: 1 }, c: [1] }
    const patch = { a: { b: null, d: { e: 1 } } }
    const result = applyMergePatch(target, patch) as any
    result.a.d.e = 2
    assert.deepEqual(target, { a: { b: 1 }, c: [1] })
    assert.deepEqual(patch, { a: { b: null, d: { e: 1 } } })
  })

  it('keeps a nested __proto__ key a plain key, and serialises it back', () => {
    const patched = applyMergePatch({}, JSON.parse('{"a": {"__proto__": {"x": 1}}}')) as {
      a: object
    }
    assert.deepEqual(Object.keys(patched.a), ['__proto__'])
    assert.equal(Object.getPrototypeOf(patched.a), Object.prototype)
    assert.equal(JSON.stringify(patched), '{"a":{"__proto__":{"x":1}}}')
  })

  it('keeps a __proto__ key from the wire as a plain key', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')
    const result = applyMergePatch({}, patch) as Record<string, unknown>
    assert.equal(Object.getPrototypeOf(result), Object.prototype)
    assert.equal(({} as any).polluted, undefined)
    assert.deepEqual(Object.keys(result).sort(), ['__proto__', 'a'])
  })
})
