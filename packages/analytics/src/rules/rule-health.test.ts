import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnalyticsError } from '../errors.js'
import { RuleHealth } from './rule-health.js'

const boom = (n: number) =>
  new AnalyticsError('ANALYTICS_EVALUATION_FAILED', `failure ${String(n)}`)

describe('RuleHealth', () => {
  it('says disable after maxFailures consecutive failures within the window, with the last error', () => {
    const h = new RuleHealth({ maxFailures: 3, windowMs: 10_000 })
    assert.equal(h.record({ error: boom(1) }, 0).status, 'failing')
    assert.equal(h.record({ error: boom(2) }, 1_000).status, 'failing')
    const v = h.record({ error: boom(3) }, 2_000)
    assert.equal(v.status, 'disable')
    assert.equal(v.lastError?.message, 'failure 3')
    assert.deepEqual([v.consecutiveFailures, v.lastErrorAt, v.disabledAt], [3, 2_000, 2_000])
    assert.equal(h.record({}, 3_000).status, 'disable', 'the verdict sticks')
    h.reset()
    assert.equal(h.snapshot().status, 'ok')
  })

  it('resets the count on a success, and ignores failures spread beyond the window', () => {
    const h = new RuleHealth({ maxFailures: 3, windowMs: 10_000 })
    h.record({ error: boom(1) }, 0)
    h.record({ error: boom(2) }, 1_000)
    assert.equal(h.record({ selected: true }, 1_500).status, 'ok')
    h.record({ error: boom(3) }, 2_000)
    h.record({ error: boom(4) }, 3_000)
    assert.equal(
      h.record({ selected: false }, 3_500).consecutiveFailures,
      2,
      'not selected: counts for nothing',
    )
    assert.equal(h.record({ error: boom(5) }, 4_000).status, 'disable')

    const slow = new RuleHealth({ maxFailures: 3, windowMs: 10_000 })
    for (const t of [0, 6_000, 12_000, 18_000])
      assert.equal(slow.record({ error: boom(t) }, t).status, 'failing')
    assert.equal(slow.snapshot().consecutiveFailures, 4)
    assert.equal(
      slow.record({ error: boom(9) }, 20_000).status,
      'disable',
      'the last three within 10 s',
    )
  })

  it('defaults to 10 failures in a minute, and refuses bad options', () => {
    const h = new RuleHealth()
    for (let i = 0; i < 9; i++) h.record({ error: boom(i) }, i)
    assert.equal(h.snapshot().status, 'failing')
    assert.equal(h.record({ error: boom(10) }, 10).status, 'disable')
    assert.deepEqual([h.snapshot().evaluations, h.snapshot().failures], [10, 10])
    assert.throws(() => new RuleHealth({ maxFailures: 0 }), AnalyticsError)
  })
})
