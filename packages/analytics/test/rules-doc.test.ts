import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { compileRule, dryRun, type RuleMessage } from '@strata/analytics'

const doc = readFileSync(new URL('../../../docs/rules.md', import.meta.url), 'utf8')
const rules = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)]
  .map((m) => JSON.parse(m[1] ?? '') as Record<string, unknown>)
  .filter((r) => 'actions' in r)

describe('docs/rules.md', () => {
  it('has rule examples that compile', () => {
    assert.ok(rules.length >= 4, `found ${String(rules.length)} rules`)
    for (const rule of rules) assert.doesNotThrow(() => compileRule(rule), String(rule['name']))
  })

  it('has a heartbeat example that alarms when 10 minutes are up, in a dry run', () => {
    const rule = rules.find((r) => r['name'] === 'gateway-silent')
    const at = (m: number): RuleMessage => ({
      deviceId: 'gw-1',
      kind: 'telemetry',
      topic: 'strata/v1/devices/gw-1/telemetry',
      ts: m * 60_000,
      payload: { cpu: 1 },
    })
    const report = dryRun(rule, [at(0), at(5)], {
      context: { device: { labels: { role: 'gateway' } } },
      untilMs: 60 * 60_000,
    })
    const alarms = report.steps.filter((s) => s.result.matched)
    assert.deepEqual(
      alarms.map((s) => [s.source, s.result.at]),
      [['tick', 15 * 60_000]],
    )
  })
})
