import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { defaultRetryBackoffOptions, retryDelayMs } from './retry-backoff.js'

const options = fc.record({
  initialMs: fc.integer({ min: 1, max: 60_000 }),
  maxMs: fc.integer({ min: 1, max: 3_600_000 }),
  factor: fc.double({ min: 1, max: 10, noNaN: true }),
})
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

test('every wait lies in [step/2, step], the step exponential and capped at maxMs', () => {
  fc.assert(
    fc.property(options, fc.integer({ min: 1, max: 10_000 }), unit, (o, attempt, r) => {
      const step = Math.min(o.maxMs, o.initialMs * o.factor ** Math.min(attempt - 1, 64))
      const delay = retryDelayMs(attempt, o, () => r)
      assert.ok(Number.isFinite(delay))
      assert.ok(delay >= Math.floor(step / 2) && delay <= Math.ceil(step), String(delay))
      assert.ok(delay <= o.maxMs)
    }),
  )
})

test('the lower bound never shrinks from one attempt to the next', () => {
  fc.assert(
    fc.property(options, fc.integer({ min: 1, max: 200 }), (o, attempt) => {
      assert.ok(retryDelayMs(attempt + 1, o, () => 0) >= retryDelayMs(attempt, o, () => 0))
    }),
  )
})

test('the default schedule: 0.5–1 s, then doubling, at most 10 minutes', () => {
  assert.equal(
    retryDelayMs(1, defaultRetryBackoffOptions, () => 0),
    500,
  )
  assert.equal(
    retryDelayMs(1, defaultRetryBackoffOptions, () => 0.999_999),
    1_000,
  )
  assert.equal(
    retryDelayMs(4, defaultRetryBackoffOptions, () => 0),
    4_000,
  )
  assert.equal(
    retryDelayMs(40, defaultRetryBackoffOptions, () => 0.999_999),
    600_000,
  )
  assert.equal(
    retryDelayMs(0, defaultRetryBackoffOptions, () => 0),
    500,
  )
})
