import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnalyticsError } from '../errors.js'
import { compileExpression, type ExpressionInput } from './rule-expression.js'

const telemetry: ExpressionInput = {
  payload: {
    temp: 31.5,
    humidity: 40,
    count: 7n,
    ok: true,
    state: 'running',
    readings: [1.5, 2.5, 9.0],
  },
  topic: 'strata/v1/devices/pump-7/telemetry',
  kind: 'telemetry',
  tags: { sensor: 'inlet' },
  device: {
    id: 'pump-7',
    labels: { site: 'berlin', tier: 'prod' },
    attributes: { model: 'P-100', maxTemp: 80 },
  },
  twin: { desired: { interval: 10 }, reported: { firmware: '2.1.0', interval: 10 } },
  now: Date.UTC(2025, 0, 15, 23, 30),
  state: { avg: { mean: 30.2, count: 12 } },
}

function value(
  source: string,
  kind: 'condition' | 'transform' | 'value',
  input = telemetry,
): unknown {
  const r = compileExpression(source, kind).evaluate(input)
  if (!r.ok) throw r.error
  return r.value
}

function compileFails(
  source: string,
  kind: 'condition' | 'transform' = 'condition',
): AnalyticsError {
  try {
    compileExpression(source, kind)
  } catch (err) {
    assert.ok(err instanceof AnalyticsError, String(err))
    return err
  }
  assert.fail(`compiled: ${source}`)
}

describe('compileExpression: conditions and transforms', () => {
  it('evaluates conditions over payload, topic, tags, device, twin, now and state', () => {
    const yes = [
      'payload.temp > 30',
      'payload.temp > 30.0 && payload.humidity < 50',
      'payload.count + 1 == 8',
      'payload.temp + 1 > 32',
      'payload.ok',
      'payload.state == "running"',
      'payload.readings.exists(r, r > 5.0)',
      'payload.readings.all(r, r >= 1.5)',
      'size(payload.readings) == 3',
      'topic.endsWith("/telemetry") && kind == "telemetry"',
      'tags.sensor == "inlet"',
      'device.id == "pump-7" && device.labels.site == "berlin"',
      'device.attributes.maxTemp > payload.temp',
      'twin.reported.firmware != "2.0.0" && twin.desired.interval == twin.reported.interval',
      'now.getHours() == 23 && now.getHours("Europe/Berlin") == 0',
      'now > timestamp("2025-01-01T00:00:00Z")',
      'state.avg.mean > 30',
      '"prod" in [device.labels.tier]',
      'payload.state.matches("^run")',
    ]
    for (const source of yes) assert.equal(value(source, 'condition'), true, source)
    assert.equal(value('payload.temp > 40', 'condition'), false)
  })

  it('builds transform outputs as plain data: ints as numbers, timestamps as epoch ms', () => {
    const out = value(
      '{"tempF": payload.temp * 9.0 / 5.0 + 32.0, "device": device.id, "site": device.labels.site, "at": now, "count": payload.count, "mean": state.avg.mean, "hot": payload.temp > 30, "list": payload.readings.map(r, r * 2.0)}',
      'transform',
    )
    assert.deepEqual(out, {
      tempF: 88.7,
      device: 'pump-7',
      site: 'berlin',
      at: Date.UTC(2025, 0, 15, 23, 30),
      count: 7,
      mean: 30.2,
      hot: true,
      list: [3, 5, 18],
    })
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
  })

  it('accepts everyday transforms over payload lists without a false refusal', () => {
    const payload = {
      sensors: [
        { name: 'a', value: 1.5, ok: true },
        { name: 'b', value: 2.5, ok: false },
      ],
    }
    const out = value(
      '{"values": payload.sensors.map(s, s.value), "ok": payload.sensors.filter(s, s.ok).map(s, s.name), "pairs": payload.sensors.map(s, {"n": s.name, "v": s.value}), "labels": payload.sensors.map(s, s.name + "-x")}',
      'transform',
      { payload },
    )
    assert.deepEqual(out, {
      values: [1.5, 2.5],
      ok: ['a'],
      pairs: [
        { n: 'a', v: 1.5 },
        { n: 'b', v: 2.5 },
      ],
      labels: ['a-x', 'b-x'],
    })
    assert.deepEqual(
      value('{"upper": payload.sensors.map(s, s.name.upperAscii())}', 'transform', { payload }),
      {
        upper: ['A', 'B'],
      },
    )
  })

  it('treats a missing field in a condition as false, and says which', () => {
    const r = compileExpression('payload.pressure > 2', 'condition').evaluate(telemetry)
    assert.ok(r.ok)
    assert.equal(r.value, false)
    assert.match(r.missing ?? '', /pressure/)
    assert.equal(
      value('!(payload.pressure > 2)', 'condition'),
      false,
      'the whole condition is false',
    )
    assert.equal(value('has(payload.pressure) && payload.pressure > 2', 'condition'), false)
    assert.equal(value('!has(payload.pressure) || payload.pressure > 2', 'condition'), true)
    assert.equal(value('state.missing_op_output.x > 1', 'condition', { state: {} }), false)
  })

  it('reports run-time failures as results, never throws', () => {
    const cases: [string, ExpressionInput, RegExp][] = [
      ['payload.count / 0 == 1', telemetry, /division by zero/],
      ['payload.state > 3', telemetry, /overload/],
      ['payload.readings[7] > 1.0', telemetry, /out of|index/i],
      ['int(payload.state) > 1', telemetry, /int/],
    ]
    for (const [source, input, reason] of cases) {
      const r = compileExpression(source, 'condition').evaluate(input)
      assert.equal(r.ok, false, source)
      assert.equal(r.error.code, 'ANALYTICS_EVALUATION_FAILED')
      assert.match(r.error.message, reason, source)
      assert.match(r.error.message, /^condition/)
    }
    const t = compileExpression('{"x": payload.pressure}', 'transform').evaluate(telemetry)
    assert.ok(!t.ok && t.error.code === 'ANALYTICS_EVALUATION_FAILED' && t.missing !== undefined)
  })

  it('checks what a condition or transform returns at run time when its type is dyn', () => {
    const r = compileExpression('payload.state', 'condition').evaluate(telemetry)
    assert.ok(!r.ok)
    assert.match(r.error.message, /returned a string, not a bool/)
    const t = compileExpression('payload.readings', 'transform').evaluate(telemetry)
    assert.ok(!t.ok)
    assert.match(t.error.message, /returned a list, not a map/)
    const nan = compileExpression('{"x": payload.temp / 0.0}', 'transform').evaluate(telemetry)
    assert.ok(!nan.ok)
    assert.match(nan.error.message, /\/x: the number Infinity has no JSON form/)
  })

  it('refuses type errors when compiled, naming line and column', () => {
    const e1 = compileFails('device.id == "a" &&\n  device.lables.site == "x"')
    assert.equal(e1.code, 'ANALYTICS_EXPRESSION_TYPE')
    assert.match(e1.message, /^condition at line 2, column 10: No such key: lables/)
    assert.deepEqual([e1.details['line'], e1.details['column']], [2, 10])

    const e2 = compileFails('topic + 1 == 2')
    assert.equal(e2.code, 'ANALYTICS_EXPRESSION_TYPE')
    assert.match(e2.message, /line 1, column 1/)

    const e3 = compileFails('payload.temp * 2.0')
    assert.equal(e3.code, 'ANALYTICS_EXPRESSION_TYPE')
    assert.match(e3.message, /a condition must be a bool, but this is double/)

    const e4 = compileFails('[1, 2]', 'transform')
    assert.match(e4.message, /a transform must be a map, but this is list<int>/)

    const e5 = compileFails('temperature > 3')
    assert.equal(e5.code, 'ANALYTICS_EXPRESSION_TYPE')
    assert.match(e5.message, /temperature/)
  })

  it('refuses syntax errors with their position', () => {
    const e = compileFails('payload.temp >\n  > 3')
    assert.equal(e.code, 'ANALYTICS_EXPRESSION_INVALID')
    assert.match(e.message, /line 2, column 3/)
    assert.equal(compileFails('   ').code, 'ANALYTICS_EXPRESSION_INVALID')
    const re = compileFails('payload.state.matches("a(b")')
    assert.equal(re.code, 'ANALYTICS_EXPRESSION_INVALID')
    assert.match(re.message, /column 25: regular expression: missing "\)"/)
    const escaped = compileFails('payload.state.matches("\\\\d(")')
    assert.match(escaped.message, /column 27: regular expression: missing "\)"/)
  })

  it('types state from the operators it is told about', () => {
    const state = { avg: { mean: 'double', start: 'timestamp' } } as const
    const c = compileExpression(
      'state.avg.mean > 3 && now - state.avg.start > duration("1m")',
      'condition',
      { state },
    )
    assert.deepEqual(
      c.evaluate({ now: 120_000, state: { avg: { mean: 4, start: new Date(0) } } }),
      { ok: true, value: true },
    )
    assert.throws(
      () => compileExpression('state.avg.meen > 3', 'condition', { state }),
      (e: unknown) =>
        e instanceof AnalyticsError &&
        e.code === 'ANALYTICS_EXPRESSION_TYPE' &&
        /meen/.test(e.message),
    )
  })

  it('copies inputs: evaluation never changes or reaches into them', () => {
    const payload = { temp: 1, nested: { a: [1, 2] } }
    const before = JSON.stringify(payload)
    value('payload.nested.a.map(x, x + 1.0) == [2.0, 3.0]', 'condition', { payload })
    assert.equal(JSON.stringify(payload), before)
  })
})
