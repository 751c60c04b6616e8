import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnalyticsError } from '../errors.js'
import { createRuleEnvironment } from './expression-environment.js'
import { resolveExpressionLimits, type ExpressionLimitsInput } from './expression-limits.js'
import { compileExpression, compileInEnvironment, type ExpressionInput } from './rule-expression.js'

/** Each hostile case must be refused or bounded well within a second. */
function quickly<T>(what: string, f: () => T): T {
  const started = performance.now()
  const result = f()
  const ms = performance.now() - started
  assert.ok(ms < 1_000, `${what} took ${ms.toFixed(0)} ms`)
  return result
}

function refused(source: string, code: string, limits?: ExpressionLimitsInput): AnalyticsError {
  return quickly(source.slice(0, 40), () => {
    try {
      compileExpression(source, 'condition', limits === undefined ? {} : { limits })
    } catch (err) {
      assert.ok(err instanceof AnalyticsError, String(err))
      assert.equal(err.code, code, err.message)
      return err
    }
    assert.fail(`compiled: ${source.slice(0, 80)}`)
  })
}

function run(
  source: string,
  input: ExpressionInput,
  kind: 'condition' | 'transform' = 'condition',
) {
  return quickly(source.slice(0, 40), () => compileExpression(source, kind).evaluate(input))
}

const list = (n: number) => Array.from({ length: n }, (_, i) => i)

describe('hostile expressions', () => {
  it('never reach JavaScript prototypes, constructors or functions', () => {
    const payload = JSON.parse('{"__proto__": {"polluted": 1}, "temp": 1}') as Record<
      string,
      unknown
    >
    const input: ExpressionInput = { payload, device: { id: 'd' } }
    for (const source of [
      'payload.constructor == null',
      'payload["constructor"] == null',
      'payload.toString == null',
      'payload.hasOwnProperty == null',
      'payload.temp.constructor == null',
      'device.attributes.constructor == null',
      'twin.reported.__proto__ == null',
      'state.prototype == null',
    ]) {
      const r = run(source, input)
      assert.ok(!r.ok || r.value === false, source)
    }
    for (const source of [
      'has(payload.constructor)',
      '"constructor" in payload',
      '"toString" in payload',
      'has(payload.valueOf)',
    ]) {
      assert.deepEqual(run(source, input), { ok: true, value: false }, source)
    }
    // a key named __proto__ in the data is data, not the object's prototype
    assert.deepEqual(run('payload.__proto__.polluted == 1.0', input), { ok: true, value: true })
    assert.equal(
      refused('topic.constructor == null', 'ANALYTICS_EXPRESSION_TYPE').code,
      'ANALYTICS_EXPRESSION_TYPE',
    )
    refused(
      'payload.constructor.constructor("return process")() == null',
      'ANALYTICS_EXPRESSION_INVALID',
    )
    // a timestamp is a JavaScript Date underneath: no field of it is reachable
    for (const source of [
      'now.constructor == null',
      'now.__proto__ == null',
      'now.getTime == null',
    ])
      refused(source, 'ANALYTICS_EXPRESSION_REFUSED')
  })

  it('cannot pollute prototypes through outputs', () => {
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<
      string,
      unknown
    >
    for (const source of [
      '{"__proto__": {"polluted": true}, "a": 1}',
      'payload',
      '{"x": payload}',
      '{"constructor": {"prototype": {"polluted": true}}}',
    ]) {
      const r = run(source, { payload }, 'transform')
      assert.ok(r.ok, source)
      const out = r.value as Record<string, unknown>
      assert.equal(Object.getPrototypeOf(out), Object.prototype, source)
      assert.equal(Object.hasOwn(out, '__proto__'), false, source)
      const copy: Record<string, unknown> = {}
      Object.assign(copy, out)
      assert.equal(Object.getPrototypeOf(copy), Object.prototype, source)
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined)
  })

  it('refuses deep nesting before anything recurses into it', () => {
    const parens = `${'('.repeat(10_000)}1${')'.repeat(10_000)} > 0`
    assert.match(
      refused(parens, 'ANALYTICS_EXPRESSION_LIMIT').message,
      /characters, over the limit of 4096/,
    )
    const big = { maxSourceLength: 100_000, maxAstNodes: 100_000 }
    assert.match(refused(parens, 'ANALYTICS_EXPRESSION_LIMIT', big).message, /maxDepth/)
    assert.match(
      refused(`${'-'.repeat(20_000)}1 > 0`, 'ANALYTICS_EXPRESSION_LIMIT', big).message,
      /deeper than 256|too deeply/,
    )
    assert.match(
      refused(`${'!'.repeat(20_000)}true`, 'ANALYTICS_EXPRESSION_LIMIT', big).message,
      /deeper than 256|too deeply/,
    )
    refused(`payload${'.a'.repeat(2_000)} > 0`, 'ANALYTICS_EXPRESSION_LIMIT')
    refused(`1${' + 1'.repeat(900)} > 0`, 'ANALYTICS_EXPRESSION_LIMIT')
  })

  it('refuses huge literals and values that double through cel.bind', () => {
    refused(`size("${'a'.repeat(5_000)}") > 0`, 'ANALYTICS_EXPRESSION_LIMIT')
    refused(`size([${list(1_001).join(',')}]) > 0`, 'ANALYTICS_EXPRESSION_LIMIT', {
      maxSourceLength: 10_000,
    })
    const start = `"${'a'.repeat(3_000)}"`
    const strings = Array.from(
      { length: 13 },
      (_, i) =>
        `cel.bind(v${String(i)}, ${i === 0 ? start : `v${String(i - 1)} + v${String(i - 1)}`}, `,
    ).join('')
    const e = refused(`${strings}size(v12) > 0${')'.repeat(13)}`, 'ANALYTICS_EXPRESSION_LIMIT')
    assert.match(e.message, /can build a value of|can cost/)
    const first = `[${list(500).join(',')}]`
    const lists = Array.from(
      { length: 14 },
      (_, i) =>
        `cel.bind(l${String(i)}, ${i === 0 ? first : `l${String(i - 1)} + l${String(i - 1)}`}, `,
    ).join('')
    refused(`${lists}size(l13) > 0${')'.repeat(14)}`, 'ANALYTICS_EXPRESSION_LIMIT', {
      maxSourceLength: 10_000,
    })
  })

  it('bounds comprehensions over big lists: nesting is refused, inputs over the limit fail', () => {
    const e = refused(
      'payload.l.exists(x, payload.l.exists(y, payload.l.exists(z, x + y + z == 1.0)))',
      'ANALYTICS_EXPRESSION_LIMIT',
    )
    assert.match(e.message, /evaluation steps with inputs at their limits/)
    refused('payload.l.map(x, payload.l.map(y, x * y)).size() > 0', 'ANALYTICS_EXPRESSION_LIMIT')
    refused(
      `[${list(900).join(',')}].exists(x, [${list(900).join(',')}].exists(y, x == y))`,
      'ANALYTICS_EXPRESSION_LIMIT',
      {
        maxSourceLength: 10_000,
      },
    )
    const r = run('payload.l.exists(x, x < 0.0)', { payload: { l: list(100_000) } })
    assert.ok(!r.ok)
    assert.match(
      r.error.message,
      /input \/payload\/l: 100000 elements, over the input limit of 1000/,
    )
    // the largest nesting the limits allow still runs fast
    const inner = `[${list(50).join(',')}]`
    const ok = run(`payload.l.exists(x, ${inner}.exists(y, x == y * 1.0 + 1000.0))`, {
      payload: { l: list(1_000) },
    })
    assert.deepEqual(ok, { ok: true, value: false })
  })

  it('bounds size() tricks, split and join over large inputs', () => {
    const s = 'a,'.repeat(4_000)
    const r = run('size(payload.s.split(",")) > 1 && payload.s.split(",").exists(p, p == "b")', {
      payload: { s },
    })
    assert.deepEqual(r, { ok: true, value: false })
    refused(
      'payload.s.split(",").map(p, payload.s.split(",")).size() > 0',
      'ANALYTICS_EXPRESSION_LIMIT',
    )
    refused(
      'size(payload.l.map(x, payload.s)) > 0 && size(payload.l.map(x, payload.s).join()) > 0',
      'ANALYTICS_EXPRESSION_LIMIT',
    )
    const long = run('size(payload.s) > 0', { payload: { s: 'x'.repeat(70_000) } })
    assert.ok(!long.ok)
    assert.match(long.error.message, /70000 characters, over the input limit of 8192/)
  })

  it('runs matches() in linear time and refuses patterns it cannot check', () => {
    const s = 'a'.repeat(8_000)
    assert.deepEqual(
      run('payload.s.matches("(a+)+$") && payload.s.matches("^(a|aa)*b")', { payload: { s } }),
      {
        ok: true,
        value: false,
      },
    )
    refused('payload.s.matches(payload.p)', 'ANALYTICS_EXPRESSION_REFUSED')
    refused('payload.s.matches("(?=a)a")', 'ANALYTICS_EXPRESSION_REFUSED')
    refused('payload.s.matches("(a)\\\\1")', 'ANALYTICS_EXPRESSION_REFUSED')
    refused(
      'payload.s. // the linear-time rewrite must see the whole call\n matches("x")',
      'ANALYTICS_EXPRESSION_REFUSED',
    )
    assert.deepEqual(
      run('payload.s.matches("x") // a comment after is fine', { payload: { s: 'x' } }),
      { ok: true, value: true },
    )
    refused(
      'payload.l.exists(x, payload.s.matches("(a|b)*c(a|b)*d"))',
      'ANALYTICS_EXPRESSION_LIMIT',
    )
    refused('b"{}".json() == {}', 'ANALYTICS_EXPRESSION_REFUSED')
  })

  it('meters comprehension steps at run time, whatever the estimate said', () => {
    const limits = resolveExpressionLimits()
    const renv = createRuleEnvironment(limits, undefined)
    const c = compileInEnvironment(renv, 'payload.l.all(x, x >= 0.0)', 'condition', 'condition')
    const input = { payload: { l: list(1_000) } }
    assert.deepEqual(c.evaluate(input), { ok: true, value: true })
    assert.ok(renv.meter.steps > 1_000, `counted ${String(renv.meter.steps)} steps`)
    renv.meter.max = 500 // as if the estimate had been wrong
    const r = c.evaluate(input)
    assert.ok(!r.ok)
    assert.match(r.error.message, /went over 500 steps/)
    renv.meter.max = limits.maxCost
    assert.deepEqual(
      c.evaluate(input),
      { ok: true, value: true },
      'the meter resets per evaluation',
    )
  })
})
