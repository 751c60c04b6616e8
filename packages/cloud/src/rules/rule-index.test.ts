import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { RuleDefinition } from '@strata/analytics'
import { RuleIndex } from './rule-index.js'

const rule = (name: string, match?: RuleDefinition['match']) => ({
  name,
  definition: { name, enabled: true, actions: [], ...(match === undefined ? {} : { match }) },
})
const names = (rules: readonly { name: string }[]) => rules.map((r) => r.name).sort()

test('a tenant without rules costs nothing and gets none', () => {
  const index = new RuleIndex<ReturnType<typeof rule>>()
  index.set('t1', 'a', rule('a'))
  assert.equal(index.hasKind('t2', 'telemetry'), false)
  assert.deepEqual(index.candidates('t2', 'telemetry', { temp: 1 }), [])
})

test('rules are found by topic kind and by the metrics the payload carries, each once', () => {
  const index = new RuleIndex<ReturnType<typeof rule>>()
  index.set('t1', 'any', rule('any'))
  index.set('t1', 'events', rule('events', { topicKinds: ['event'] }))
  index.set('t1', 'temp', rule('temp', { topicKinds: ['telemetry'], metrics: ['temp'] }))
  index.set('t1', 'both', rule('both', { metrics: ['temp', 'hum'] }))
  index.set('t1', 'hum', rule('hum', { topicKinds: ['telemetry'], metrics: ['hum'] }))
  assert.equal(index.hasKind('t1', 'telemetry'), true)
  assert.deepEqual(names(index.candidates('t1', 'telemetry', { temp: 1 })), ['any', 'both', 'temp'])
  assert.deepEqual(names(index.candidates('t1', 'telemetry', { temp: 1, hum: 2 })), [
    'any',
    'both',
    'hum',
    'temp',
  ])
  assert.deepEqual(names(index.candidates('t1', 'telemetry', { volts: 1 })), ['any'])
  assert.deepEqual(names(index.candidates('t1', 'event', { type: 'x' })), ['any', 'events'])
  // a payload with many more fields than indexed metrics is scanned by metric instead
  const wide = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`m${String(i)}`, i]))
  assert.deepEqual(names(index.candidates('t1', 'telemetry', { ...wide, hum: 1 })), [
    'any',
    'both',
    'hum',
  ])
  // inherited names are not payload fields
  assert.deepEqual(names(index.candidates('t1', 'telemetry', JSON.parse('{"__proto__": 1}'))), [
    'any',
  ])
})

test('replacing and removing rules rebuilds the index; the last one removes the tenant', () => {
  const index = new RuleIndex<ReturnType<typeof rule>>()
  index.set('t1', 'r', rule('r', { topicKinds: ['telemetry'], metrics: ['temp'] }))
  index.set('t1', 'r', rule('r', { topicKinds: ['event'] }))
  assert.equal(index.hasKind('t1', 'telemetry'), false)
  assert.deepEqual(names(index.candidates('t1', 'event', {})), ['r'])
  index.set('t1', 'r', undefined)
  assert.equal(index.hasKind('t1', 'event'), false)
  assert.deepEqual([...index.all()], [])
})
