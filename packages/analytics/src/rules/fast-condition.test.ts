import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { compileExpression, type ExpressionInput } from './rule-expression.js'

// The native fast path must give CEL's answer whenever it answers. The oracle is the same
// condition in a shape the fast path leaves to CEL (`[COND][0]`).

const field = fc.constantFrom('a', 'b', 's', 'flag', 'missing')
const number = fc.oneof(
  fc.double({ noDefaultInfinity: false }),
  fc.constantFrom(0, -0, 1.5, 21.96, Number.NaN, Number.POSITIVE_INFINITY),
)
const literal = fc.oneof(
  number
    .filter((n) => Number.isFinite(n))
    .map((n) => (Number.isInteger(n) ? `${String(n)}.0` : String(n))),
  fc.constantFrom('true', 'false', '"x"', '"berlin"', '3'),
)
const selector = fc.oneof(
  field.map((f) => `payload.${f}`),
  fc.constantFrom('state.hot.active', 'state.hot.value', 'device.labels.site', 'tags.room'),
)
const comparison = fc
  .tuple(selector, fc.constantFrom('<', '<=', '>', '>=', '==', '!='), literal)
  .map(([s, op, l]) => `${s} ${op} ${l}`)
const atom = fc.oneof(
  comparison,
  selector.map((s) => `has(${s})`),
  fc.constantFrom('state.hot.active', 'payload.flag', 'true'),
)
const condition = fc
  .tuple(atom, fc.constantFrom('&&', '||'), atom, fc.boolean())
  .map(([x, op, y, not]) => (not ? `!(${x}) ${op} ${y}` : `${x} ${op} ${y}`))

const value = fc.oneof(number, fc.boolean(), fc.constantFrom('berlin', 'x', ''), fc.constant(null))
const payload = fc.record({ a: value, b: value, s: value, flag: value }, { requiredKeys: [] })
const input = fc.record({
  payload,
  hot: fc.option(fc.record({ active: value, value: value }, { requiredKeys: [] }), {
    nil: undefined,
  }),
  labels: fc.option(fc.record({ site: fc.constantFrom('berlin', 'paris') }, { requiredKeys: [] }), {
    nil: undefined,
  }),
})

function compileBoth(source: string) {
  try {
    return {
      fast: compileExpression(source, 'condition'),
      cel: compileExpression(`[${source}][0]`, 'condition'),
    }
  } catch {
    return undefined // a condition that does not type-check is not what this test is about
  }
}

describe('fast conditions', () => {
  it('answer as CEL does, or leave the expression to CEL', () => {
    fc.assert(
      fc.property(condition, input, (source, i) => {
        const both = compileBoth(source)
        if (both === undefined) return
        const expressionInput: ExpressionInput = {
          payload: { ...i.payload },
          device: { id: 'd', ...(i.labels === undefined ? {} : { labels: i.labels }) },
          tags: { room: 'r1' },
          state: i.hot === undefined ? {} : { hot: i.hot },
        }
        const fast = both.fast.evaluate(expressionInput)
        const cel = both.cel.evaluate(expressionInput)
        assert.equal(fast.ok, cel.ok, source)
        if (fast.ok && cel.ok)
          assert.equal(fast.value, cel.value, `${source} on ${JSON.stringify(i)}`)
      }),
      { numRuns: 400 },
    )
  })

  it('decides the common shapes without CEL', () => {
    const c = compileExpression(
      'has(payload.hum) && payload.hum > 40.85 || !(payload.temp <= 21.96)',
      'condition',
    )
    assert.deepEqual(c.evaluate({ payload: { hum: 41, temp: 1 } }), { ok: true, value: true })
    assert.deepEqual(c.evaluate({ payload: { hum: 40, temp: 30 } }), { ok: true, value: true })
    assert.deepEqual(c.evaluate({ payload: { hum: 40, temp: 20 } }), { ok: true, value: false })
    // a missing field is CEL's to report
    const missing = c.evaluate({ payload: { hum: 40 } })
    assert.equal(missing.ok && missing.value, false)
    assert.ok(missing.ok && missing.missing !== undefined, 'the missing field is named')
  })
})
