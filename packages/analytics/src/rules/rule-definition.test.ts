import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnalyticsError } from '../errors.js'
import { matchesLabelSelector, parseLabelSelector } from './label-selector.js'
import { decodeRuleDefinition } from './rule-definition.js'

const valid = {
  name: 'overheat',
  description: 'Pumps running hot',
  enabled: true,
  match: { topicKinds: ['telemetry'], devices: 'site=berlin,!retired', metrics: ['temp'] },
  operators: [
    { name: 'avg5m', type: 'window', mode: 'sliding', sizeMs: 300_000, metric: 'temp' },
    {
      name: 'hot',
      type: 'forAtLeast',
      input: 'state.avg5m.mean',
      forMs: 300_000,
      above: 30,
      below: 28,
    },
    { name: 'db', type: 'deadband', metric: 'temp', threshold: 0.5 },
    { name: 'rate', type: 'rateOfChange', metric: 'energy', counter: true },
    { name: 'band', type: 'hysteresis', metric: 'temp', above: 30, below: 28 },
    { name: 'silent', type: 'heartbeat', timeoutMs: 600_000 },
  ],
  condition: 'state.hot.active',
  transform: '{"temp": payload.temp}',
  actions: [
    { type: 'store', prefix: 'rules' },
    { type: 'republish', topic: 'plant/{deviceId}/temp', qos: 1, retain: false, format: 'json' },
    { type: 'set-desired', patch: { fan: 'max' } },
    { type: 'command', name: 'reboot', device: 'pump-8', timeoutMs: 30_000 },
    { type: 'alarm', name: 'overheat', severity: 'warning', message: 'Pump hot', autoClear: true },
    {
      type: 'webhook',
      url: 'https://hooks.example.com/strata',
      secret: 'a'.repeat(32),
      headers: { 'X-Source': 'strata', Authorization: 'Bearer t' },
      timeoutMs: 10_000,
    },
    {
      type: 'amqp',
      url: 'amqps://app:pw@mq.example.com/prod',
      exchange: 'telemetry',
      routingKey: 'pump.temp',
      persistent: true,
      mandatory: true,
    },
    {
      type: 'nats',
      servers: ['nats://nats.example.com:4222', 'nats2.example.com:4222'],
      subject: 'plant.pump.temp',
    },
  ],
}

function refusedAt(rule: unknown, pointer: string | RegExp): AnalyticsError {
  try {
    decodeRuleDefinition(rule)
  } catch (err) {
    assert.ok(err instanceof AnalyticsError)
    assert.equal(err.code, 'ANALYTICS_RULE_INVALID')
    if (typeof pointer === 'string')
      assert.ok(err.message.includes(pointer), `${err.message} names ${pointer}`)
    else assert.match(err.message, pointer)
    return err
  }
  assert.fail('accepted')
}

const withChange = (path: (string | number)[], value: unknown): unknown => {
  const copy = structuredClone(valid) as Record<string, unknown>
  let at: Record<string | number, unknown> = copy
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>
  const last = path[path.length - 1] as string | number
  if (value === undefined) Reflect.deleteProperty(at, last)
  else at[last] = value
  return copy
}

describe('decodeRuleDefinition', () => {
  it('accepts a rule with every operator and action type', () => {
    assert.deepEqual(decodeRuleDefinition(valid), valid)
    assert.deepEqual(decodeRuleDefinition({ name: 'min', enabled: false, actions: [] }), {
      name: 'min',
      enabled: false,
      actions: [],
    })
  })

  it('names the bad field by its JSON pointer', () => {
    refusedAt(withChange(['name'], 'bad name!'), '/name')
    refusedAt(withChange(['enabled'], undefined), /enabled/)
    refusedAt(withChange(['extra'], 1), /unknown properties "extra"/)
    refusedAt(
      withChange(['match', 'topicKinds'], ['telemetry', 'twin.desired']),
      '/match/topicKinds/1',
    )
    refusedAt(withChange(['operators', 0, 'mode'], 'hopping'), '/operators/0')
    refusedAt(withChange(['actions', 0, 'type'], 'email'), '/actions/0')
    refusedAt(withChange(['actions', 4, 'severity'], 'huge'), '/actions/4')
    refusedAt(withChange(['actions', 1, 'qos'], 3), '/actions/1')
  })

  it('checks what the schema cannot: exclusive fields, unique names, safe targets', () => {
    refusedAt(
      withChange(['operators', 1, 'name'], 'avg5m'),
      '/operators/1/name a second operator named avg5m',
    )
    refusedAt(
      withChange(['operators', 0, 'input'], 'payload.temp'),
      '/operators/0/metric give exactly one of metric and input',
    )
    refusedAt(
      withChange(['operators', 0, 'count'], 10),
      '/operators/0/sizeMs give exactly one of sizeMs and count',
    )
    refusedAt(withChange(['operators', 2, 'percent'], 5), '/operators/2/threshold')
    refusedAt(
      withChange(['operators', 1, 'below'], 31),
      '/operators/1/below below (31) is greater than above (30)',
    )
    refusedAt(withChange(['operators', 4, 'below'], undefined), '/operators/4/above')
    refusedAt(withChange(['operators', 5, 'input'], 'payload.x'), '/operators/5/input')
    refusedAt(
      withChange(['actions', 1, 'topic'], 'strata/v1/devices/pump-7/telemetry'),
      '/actions/1/topic rules do not publish under strata/',
    )
    refusedAt(withChange(['actions', 1, 'topic'], '$SYS/x'), '/actions/1/topic')
    refusedAt(withChange(['actions', 1, 'topic'], 'plant/+/temp'), '/actions/1/topic')
    refusedAt(
      withChange(['actions', 5, 'url'], 'ftp://example.com'),
      '/actions/5/url has scheme ftp',
    )
    refusedAt(
      withChange(['actions', 5, 'url'], 'https://user:pw@example.com/'),
      '/actions/5/url has credentials in it',
    )
    refusedAt(withChange(['actions', 5, 'secret'], 'short'), '/actions/5/secret')
    refusedAt(
      withChange(['actions', 5, 'headers'], { 'X-Strata-Signature': 'x' }),
      '/actions/5/headers/X-Strata-Signature is set by Strata',
    )
    refusedAt(withChange(['actions', 5, 'headers'], { Host: 'evil' }), '/actions/5/headers/Host')
    refusedAt(
      withChange(['actions', 5, 'headers'], { 'X-A': 'v\r\nX-B: 1' }),
      '/actions/5/headers/X-A',
    )
    refusedAt(
      withChange(['actions', 6, 'url'], 'http://mq.example.com'),
      '/actions/6/url has scheme http',
    )
    refusedAt(withChange(['actions', 7, 'subject'], 'plant.*'), '/actions/7/subject')
    refusedAt(
      withChange(['actions', 7, 'servers'], ['nats://u:p@nats.example.com']),
      '/actions/7/servers/0 has credentials',
    )
    refusedAt(withChange(['actions', 7, 'servers'], []), '/actions/7/servers')
    refusedAt(withChange(['match', 'devices'], 'site=berlin,bad key'), '/match/devices')
  })
})

describe('label selectors', () => {
  it('parse the cloud syntax and match labels', () => {
    const parsed = parseLabelSelector('site=berlin, tier!=test, gpu, !retired')
    assert.ok(parsed.ok)
    const labels = { site: 'berlin', tier: 'prod', gpu: 'yes' }
    assert.equal(matchesLabelSelector(labels, parsed.terms), true)
    assert.equal(matchesLabelSelector({ ...labels, retired: 'x' }, parsed.terms), false)
    assert.equal(matchesLabelSelector({ ...labels, tier: 'test' }, parsed.terms), false)
    assert.equal(matchesLabelSelector({ site: 'berlin' }, parsed.terms), false)
    assert.deepEqual(parseLabelSelector(''), { ok: true, terms: [] })
    assert.equal(parseLabelSelector(Array(17).fill('a').join(',')).ok, false)
    assert.equal(
      matchesLabelSelector({}, [{ op: 'lacks', key: 'constructor' }]),
      true,
      'own keys only',
    )
  })
})
