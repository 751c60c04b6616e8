import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnalyticsError } from '../errors.js'
import { compileRule, type RuleResult } from './compile-rule.js'
import { dryRun } from './dry-run.js'
import type { RuleContext, RuleMessage } from './rule-message.js'

const minute = 60_000
const t0 = Date.UTC(2025, 5, 1, 12, 0)
const pump: RuleContext = { device: { labels: { type: 'pump', site: 'berlin' } } }

function telemetry(deviceId: string, ts: number, payload: Record<string, unknown>): RuleMessage {
  return {
    deviceId,
    kind: 'telemetry',
    topic: `strata/v1/devices/${deviceId}/telemetry`,
    ts,
    payload,
  }
}

const overheat = {
  name: 'pump-overheat',
  enabled: true,
  match: { topicKinds: ['telemetry'], metrics: ['temp'], devices: 'type=pump' },
  operators: [
    { name: 'hot', type: 'forAtLeast', metric: 'temp', forMs: 5 * minute, above: 80, below: 75 },
  ],
  condition: 'state.hot.active',
  transform: '{"temp": payload.temp, "since": state.hot.since}',
  actions: [
    {
      type: 'alarm',
      name: 'overheat',
      severity: 'critical',
      message: 'Pump above 80 °C for 5 minutes',
    },
  ],
}

describe('compileRule', () => {
  it('raises a high-temperature alarm after 5 minutes and clears it with hysteresis', () => {
    const rule = compileRule(overheat)
    const temps = [78, 81, 82, 83, 81, 84, 85, 79, 76, 74, 76]
    const results = temps.map((temp, i) =>
      rule.evaluate(telemetry('pump-7', t0 + i * minute, { temp }), pump),
    )
    assert.deepEqual(
      results.map((r) => r.matched),
      [false, false, false, false, false, false, true, true, true, false, false],
    )
    const raised = results[6] as RuleResult
    assert.deepEqual(raised.output, { temp: 85, since: t0 + 6 * minute })
    assert.deepEqual(raised.actions, overheat.actions)
    assert.equal(
      raised.state['hot'] && 'changed' in raised.state['hot'] && raised.state['hot'].changed,
      true,
    )
    assert.deepEqual(results[9]?.actions, [])
    assert.ok(results.every((r) => r.selected && r.error === undefined))
  })

  it('selects by topic kind, device labels and metrics before anything runs', () => {
    const rule = compileRule(overheat)
    const other = rule.evaluate(telemetry('fan-1', t0, { temp: 99 }), {
      device: { labels: { type: 'fan' } },
    })
    assert.deepEqual(other, {
      deviceId: 'fan-1',
      at: t0,
      selected: false,
      matched: false,
      actions: [],
      state: {},
    })
    assert.equal(rule.evaluate(telemetry('pump-7', t0, { humidity: 3 }), pump).selected, false)
    assert.equal(
      rule.evaluate({ ...telemetry('pump-7', t0, { temp: 99 }), kind: 'event' }, pump).selected,
      false,
    )
    assert.equal(
      rule.evaluate(telemetry('pump-7', t0, { temp: 99 })).selected,
      false,
      'no labels: the selector fails',
    )
    assert.deepEqual(rule.stats(), { hot: { keys: 0, evicted: 0, rejected: 0 } })
  })

  it('keeps operator state per device', () => {
    const rule = compileRule(overheat)
    for (let i = 0; i <= 5; i++) {
      rule.evaluate(telemetry('pump-7', t0 + i * minute, { temp: 90 }), pump)
      rule.evaluate(telemetry('pump-8', t0 + i * minute, { temp: i === 3 ? 70 : 90 }), pump)
    }
    assert.equal(
      rule.evaluate(telemetry('pump-7', t0 + 6 * minute, { temp: 90 }), pump).matched,
      true,
    )
    assert.equal(
      rule.evaluate(telemetry('pump-8', t0 + 6 * minute, { temp: 90 }), pump).matched,
      false,
    )
    assert.equal(rule.stats()['hot']?.keys, 2)
    rule.reset()
    assert.equal(rule.stats()['hot']?.keys, 0)
  })

  it('republishes through a deadband: only moves of half a unit, or every 10 minutes', () => {
    const rule = compileRule({
      name: 'level-republish',
      enabled: true,
      match: { topicKinds: ['telemetry'], metrics: ['level'] },
      operators: [
        {
          name: 'level',
          type: 'deadband',
          metric: 'level',
          threshold: 0.5,
          maxIntervalMs: 10 * minute,
        },
      ],
      condition: 'state.level.emit',
      transform: '{"device": device.id, "level": payload.level, "ts": now}',
      actions: [{ type: 'republish', topic: 'plant/tanks/{deviceId}/level', qos: 1, retain: true }],
    })
    const levels: [number, number][] = [
      [0, 4.0],
      [1, 4.2],
      [2, 4.6],
      [3, 4.4],
      [14, 4.4],
      [15, 3.8],
    ]
    const out = levels.map(([m, level]) =>
      rule.evaluate(telemetry('tank-1', t0 + m * minute, { level })),
    )
    assert.deepEqual(
      out.map((r) => r.matched),
      [true, false, true, false, true, true],
    )
    assert.deepEqual(out[2]?.output, { device: 'tank-1', level: 4.6, ts: t0 + 2 * minute })
  })

  it('raises a heartbeat alarm on the tick that finds a device silent, and clears on its next message', () => {
    const rule = compileRule({
      name: 'gateway-silent',
      enabled: true,
      match: { devices: 'role=gateway' },
      operators: [{ name: 'alive', type: 'heartbeat', timeoutMs: 10 * minute }],
      condition: 'state.alive.silent',
      transform: '{"lastSeen": state.alive.lastSeen, "silentMs": state.alive.silentMs}',
      actions: [
        { type: 'alarm', name: 'silent', severity: 'warning', message: 'No data for 10 minutes' },
      ],
    })
    const gw: RuleContext = { device: { labels: { role: 'gateway' } } }
    const contextOf = (id: string) => (id.startsWith('gw') ? gw : undefined)
    assert.equal(rule.evaluate(telemetry('gw-1', t0, { cpu: 3 }), gw).matched, false)
    assert.equal(rule.evaluate(telemetry('gw-2', t0 + 5 * minute, { cpu: 3 }), gw).matched, false)
    assert.equal(rule.nextDeadline(), t0 + 10 * minute)
    assert.deepEqual(rule.tick(t0 + 9 * minute, contextOf), [])
    const ticked = rule.tick(t0 + 10 * minute, contextOf)
    assert.equal(ticked.length, 1)
    assert.deepEqual(
      { deviceId: ticked[0]?.deviceId, matched: ticked[0]?.matched, output: ticked[0]?.output },
      { deviceId: 'gw-1', matched: true, output: { lastSeen: t0, silentMs: 10 * minute } },
    )
    assert.deepEqual(rule.tick(t0 + 11 * minute, contextOf), [], 'reported once')
    assert.equal(rule.nextDeadline(), t0 + 15 * minute)
    const back = rule.evaluate(telemetry('gw-1', t0 + 12 * minute, { cpu: 1 }), gw)
    assert.equal(back.matched, false)
    assert.deepEqual(back.state['alive'], {
      silent: false,
      lastSeen: t0 + 12 * minute,
      silentMs: 0,
      changed: true,
    })
  })

  it('chains operators: an input expression reads the outputs of the operators before it', () => {
    const rule = compileRule({
      name: 'hot-average',
      enabled: true,
      operators: [
        { name: 'avg', type: 'window', mode: 'sliding', sizeMs: 3 * minute, metric: 'temp' },
        { name: 'hot', type: 'hysteresis', input: 'state.avg.mean', above: 30, below: 28 },
      ],
      condition: 'state.hot.active && state.avg.complete',
      actions: [],
    })
    const temps = [29, 31, 32, 33, 29, 27, 27, 27]
    const r = temps.map((temp, i) => rule.evaluate(telemetry('p', t0 + i * minute, { temp })))
    assert.deepEqual(
      r.map((x) => x.matched),
      [false, false, false, true, true, true, false, false],
    )
    assert.equal(r[3]?.state['avg'] && 'mean' in r[3].state['avg'] && r[3].state['avg'].mean, 32)
  })

  it('uses the payload as output without a transform, and reads tags, twin and kind', () => {
    const rule = compileRule({
      name: 'events',
      enabled: true,
      match: { topicKinds: ['event', 'telemetry'] },
      condition:
        'kind == "event" && payload.severity == "critical" && twin.reported.firmware == "2.1.0"',
      actions: [{ type: 'webhook', url: 'https://example.com/hook', secret: 's'.repeat(32) }],
    })
    const event: RuleMessage = {
      deviceId: 'd',
      kind: 'event',
      topic: 'strata/v1/devices/d/events/fault',
      ts: t0,
      payload: { severity: 'critical', message: 'jam', data: { code: 7 } },
    }
    const r = rule.evaluate(event, { twin: { reported: { firmware: '2.1.0' } } })
    assert.equal(r.matched, true)
    assert.deepEqual(r.output, { severity: 'critical', message: 'jam', data: { code: 7 } })
    const missing = rule.evaluate(
      { ...event, payload: { message: 'x' } },
      { twin: { reported: { firmware: '2.1.0' } } },
    )
    assert.equal(missing.matched, false)
    assert.match(missing.missing ?? '', /severity/)
  })

  it('reports failures in the result and never throws', () => {
    const rule = compileRule({
      name: 'div',
      enabled: true,
      condition: 'payload.n / payload.d > 1',
      actions: [],
    })
    const r = rule.evaluate(telemetry('d', t0, { n: 1n, d: 0n }))
    assert.equal(r.matched, false)
    assert.equal(r.error?.code, 'ANALYTICS_EVALUATION_FAILED')
    assert.match(r.error.message, /^condition at line 1, column \d+: division by zero/)
    const bad = rule.evaluate(telemetry('d', t0, { n: () => 1 }))
    assert.match(
      bad.error?.message ?? '',
      /input \/payload\/n: a function is not a value rules can read/,
    )
    const input = compileRule({
      name: 'inp',
      enabled: true,
      operators: [{ name: 'r', type: 'rateOfChange', input: 'payload.a / payload.b' }],
      actions: [],
    })
    assert.match(
      input.evaluate(telemetry('d', t0, { a: 1n, b: 0n })).error?.message ?? '',
      /^operators\/0\/input/,
    )
    assert.equal(
      input.evaluate(telemetry('d', t0, { x: 1 })).error,
      undefined,
      'a missing input skips the operator',
    )
  })

  it('refuses bad expressions when it compiles, naming which one', () => {
    const base = { name: 'r', enabled: true, actions: [] }
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ condition: 'payload.temp >' }, 'ANALYTICS_EXPRESSION_INVALID', /^condition at line 1/],
      [
        { transform: 'payload.temp > 1' },
        'ANALYTICS_EXPRESSION_TYPE',
        /^transform at line 1, column 1: a transform must be a map/,
      ],
      [
        {
          operators: [{ name: 'w', type: 'window', mode: 'sliding', count: 3, metric: 't' }],
          condition: 'state.w.avg > 1',
        },
        'ANALYTICS_EXPRESSION_TYPE',
        /No such key: avg/,
      ],
      [
        { operators: [{ name: 'h', type: 'hysteresis', input: 'string(payload.t)' }] },
        'ANALYTICS_EXPRESSION_TYPE',
        /^operators\/0\/input .*must be a number or bool/,
      ],
      [
        { condition: 'payload.l.exists(a, payload.l.exists(b, payload.l.exists(c, a == b)))' },
        'ANALYTICS_EXPRESSION_LIMIT',
        /cost/,
      ],
    ]
    for (const [extra, code, message] of cases) {
      assert.throws(
        () => compileRule({ ...base, ...extra }),
        (e: unknown) => e instanceof AnalyticsError && e.code === code && message.test(e.message),
        JSON.stringify(extra),
      )
    }
  })
})

describe('dryRun', () => {
  it('replays samples with fresh state and reports silences where they began', () => {
    const definition = {
      name: 'silent',
      enabled: true,
      operators: [{ name: 'alive', type: 'heartbeat', timeoutMs: 10 * minute }],
      condition: 'state.alive.silent',
      actions: [{ type: 'alarm', name: 'silent', severity: 'warning' }],
    }
    const samples = [0, 2, 4, 30, 32].map((m) => telemetry('d1', t0 + m * minute, { v: m }))
    const report = dryRun(definition, samples, { untilMs: t0 + 60 * minute })
    assert.deepEqual(
      report.steps.map((s) => [s.source, s.index, (s.result.at - t0) / minute, s.result.matched]),
      [
        ['message', 0, 0, false],
        ['message', 1, 2, false],
        ['message', 2, 4, false],
        ['tick', undefined, 14, true],
        ['message', 3, 30, false],
        ['message', 4, 32, false],
        ['tick', undefined, 42, true],
      ],
    )
    assert.deepEqual(report.summary, { messages: 5, selected: 7, matched: 2, errors: 0 })
    assert.equal(report.health.status, 'ok')
    const again = dryRun(definition, samples, { untilMs: t0 + 60 * minute })
    assert.deepEqual(again.summary, report.summary, 'no state survives between runs')
  })

  it('says when the failures would have disabled the rule', () => {
    const samples = Array.from({ length: 12 }, (_, i) => ({
      message: telemetry('d', t0 + i * 1_000, { n: 1n, d: 0n }),
      context: pump,
    }))
    const report = dryRun(
      { name: 'div', enabled: true, condition: 'payload.n / payload.d > 1', actions: [] },
      samples,
    )
    assert.equal(report.summary.errors, 12)
    assert.equal(report.health.status, 'disable')
    assert.equal(report.health.disabledAt, t0 + 9 * 1_000)
    assert.throws(() => dryRun({ name: 'x' }, samples), AnalyticsError)
  })
})
