import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { topicMatches } from '@strata/protocol'
import { filterCovers, filtersOverlap } from './topic-cover.js'

/** Valid filters over a few levels, `$s` for the `$` rule, '' for empty levels. */
const filterArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '$s', '+'), { maxLength: 3 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((f) => f !== '')

/**
 * Every topic of up to four levels over the filters' literals plus a fresh one ('c'): enough to
 * witness any difference between filters of up to four levels.
 */
const domain: readonly string[] = (() => {
  const out: string[] = []
  let layer = ['']
  for (let depth = 1; depth <= 4; depth++) {
    layer = layer.flatMap((prefix) =>
      ['a', 'b', 'c', '', '$s'].map((l) => (depth === 1 ? l : `${prefix}/${l}`)),
    )
    out.push(...layer.filter((t) => t !== ''))
  }
  return out
})()

describe('filterCovers', () => {
  it('covers exactly the filters whose topics it all matches', () => {
    const cases: [string, string, boolean][] = [
      ['#', 'a/b', true],
      ['#', '#', true],
      ['#', '$SYS/#', false],
      ['$SYS/#', '$SYS/broker/+', true],
      ['+/#', '$SYS/x', false],
      ['a/#', 'a', true],
      ['a/#', 'a/+/b', true],
      ['a/+', 'a/#', false],
      ['a/+', 'a', false],
      ['sensors/+/temp', 'sensors/kitchen/temp', true],
      ['sensors/+/temp', 'sensors/+/temp', true],
      ['sensors/+/temp', 'sensors/#', false],
      ['sensors/+/temp', '#', false],
      ['sensors/+/temp', 'sensors/+/+', false],
      ['a/b', 'a/b', true],
      ['a/b', 'a/+', false],
      ['+', '', true],
      ['a/+/#', 'a', false],
      ['a/+/#', 'a/x', true],
    ]
    for (const [outer, inner, expected] of cases) {
      assert.equal(filterCovers(outer, inner), expected, `${outer} covers ${inner}`)
    }
  })

  it('agrees with topicMatches on every topic of a small complete domain', () => {
    fc.assert(
      fc.property(filterArb, filterArb, (outer, inner) => {
        const reference = domain.every((t) => !topicMatches(inner, t) || topicMatches(outer, t))
        assert.equal(filterCovers(outer, inner), reference, `${outer} covers ${inner}`)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('filtersOverlap', () => {
  it('finds a common topic when there is one', () => {
    const cases: [string, string, boolean][] = [
      ['a/+/secret', 'a/b/#', true],
      ['a/b', 'a/c/#', false],
      ['a', 'a/#', true],
      ['#', '$SYS/x', false],
      ['$SYS/#', '$SYS/+', true],
      ['+/+', 'a', false],
      ['+', '+', true],
    ]
    for (const [a, b, expected] of cases) {
      assert.equal(filtersOverlap(a, b), expected, `${a} overlaps ${b}`)
      assert.equal(filtersOverlap(b, a), expected, `${b} overlaps ${a}`)
    }
  })

  it('agrees with topicMatches on every topic of a small complete domain', () => {
    fc.assert(
      fc.property(filterArb, filterArb, (a, b) => {
        const reference = domain.some((t) => topicMatches(a, t) && topicMatches(b, t))
        assert.equal(filtersOverlap(a, b), reference, `${a} overlaps ${b}`)
      }),
      { numRuns: 2000 },
    )
  })
})
