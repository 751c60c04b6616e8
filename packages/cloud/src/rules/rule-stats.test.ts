import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RuleStatsRecorder } from './rule-stats.js'

test('counts evaluations, selections, matches, errors and actions', () => {
  const s = new RuleStatsRecorder()
  s.recordEvaluation(false, false, 0.1, 1_000)
  s.recordEvaluation(true, false, 0.2, 1_000)
  s.recordEvaluation(true, true, 0.3, 2_000)
  s.recordError('ANALYTICS_EVALUATION_FAILED', 'division by zero', 2_500)
  s.recordAction(true)
  s.recordAction(false)
  const snap = s.snapshot(3_000, 'failing', 4)
  assert.equal(snap.evaluations, 3)
  assert.equal(snap.selected, 2)
  assert.equal(snap.matched, 1)
  assert.equal(snap.errors, 1)
  assert.equal(snap.actionsRun, 1)
  assert.equal(snap.actionsFailed, 1)
  assert.equal(snap.lastMatchAt, 2_000)
  assert.deepEqual(snap.lastError, {
    code: 'ANALYTICS_EVALUATION_FAILED',
    message: 'division by zero',
    at: 2_500,
  })
  assert.equal(snap.health, 'failing')
  assert.equal(snap.deadLetters, 4)
})

test('the rate covers selected evaluations of the last 60 seconds only', () => {
  const s = new RuleStatsRecorder()
  for (let i = 0; i < 120; i++) s.recordEvaluation(true, false, 0, i * 500) // 2/s for 60 s
  s.recordEvaluation(false, false, 0, 59_900) // not selected: not in the rate
  assert.equal(s.ratePerSecond(59_999), 2)
  // 30 s later, half the buckets have aged out
  assert.equal(s.ratePerSecond(89_999), 1)
  // a minute of silence: nothing left, even though the buckets were never overwritten
  assert.equal(s.ratePerSecond(200_000), 0)
  // a bucket reused for a later second starts from zero
  s.recordEvaluation(true, false, 0, 200_000)
  assert.equal(s.ratePerSecond(200_000), 1 / 60)
})

test('latency percentiles come from the most recent 256 evaluations', () => {
  const s = new RuleStatsRecorder()
  assert.deepEqual(s.latency(), { p50: 0, p99: 0, max: 0 })
  for (let i = 1; i <= 100; i++) s.recordEvaluation(true, false, i, 0)
  assert.deepEqual(s.latency(), { p50: 50, p99: 99, max: 100 })
  // 256 fast ones push every slow one out of the ring
  for (let i = 0; i < 256; i++) s.recordEvaluation(true, false, 0.01, 0)
  assert.deepEqual(s.latency(), { p50: 0.01, p99: 0.01, max: 0.01 })
})
