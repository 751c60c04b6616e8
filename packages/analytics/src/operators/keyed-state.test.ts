import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnalyticsError } from '../errors.js'
import { KeyedState } from './keyed-state.js'

describe('KeyedState', () => {
  it('evicts the least recently used key when full', () => {
    const s = new KeyedState<number>({ maxKeys: 2, overflow: 'evict-oldest' })
    s.getOrCreate('a', () => 1)
    s.getOrCreate('b', () => 2)
    s.getOrCreate('a', () => 99) // a is now the most recent
    assert.equal(
      s.getOrCreate('c', () => 3),
      3,
    )
    assert.deepEqual(
      [...s.entries()],
      [
        ['a', 1],
        ['c', 3],
      ],
    )
    assert.deepEqual(s.stats, { keys: 2, evicted: 1, rejected: 0 })
    assert.equal(s.peek('b'), undefined)
  })

  it('refuses new keys when full under reject, keeping the ones it has', () => {
    const s = new KeyedState<number>({ maxKeys: 1, overflow: 'reject' })
    s.getOrCreate('a', () => 1)
    assert.equal(
      s.getOrCreate('b', () => 2),
      undefined,
    )
    assert.equal(
      s.getOrCreate('a', () => 9),
      1,
    )
    assert.deepEqual(s.stats, { keys: 1, evicted: 0, rejected: 1 })
    assert.throws(() => new KeyedState({ maxKeys: 0, overflow: 'reject' }), AnalyticsError)
    assert.throws(() => new KeyedState({ maxKeys: 1, overflow: 'drop' as never }), AnalyticsError)
  })
})
