import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeDeviceMessage, deviceTopics, parseTopicName } from '@strata/protocol'
import { ruleMessagesOf } from './rule-message.js'

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))

function decode(topic: string, payload: unknown) {
  const parsed = parseTopicName(topic)
  assert.ok(parsed)
  return ruleMessagesOf(
    parsed.owner,
    topic,
    decodeDeviceMessage(parsed.kind, parsed.format, bytes(payload)),
    5_000,
  )
}

describe('ruleMessagesOf', () => {
  const t = deviceTopics('pump-7')

  it('makes one message per telemetry record, with its own timestamp and tags', () => {
    const out = decode(t.telemetry(), [
      { ts: 1_000, values: { temp: 20.5 }, tags: { sensor: 'in' } },
      { values: { temp: 21 } },
    ])
    assert.deepEqual(out, [
      {
        deviceId: 'pump-7',
        topic: t.telemetry(),
        kind: 'telemetry',
        ts: 1_000,
        payload: { temp: 20.5 },
        tags: { sensor: 'in' },
      },
      {
        deviceId: 'pump-7',
        topic: t.telemetry(),
        kind: 'telemetry',
        ts: 5_000,
        payload: { temp: 21 },
      },
    ])
  })

  it('passes events, twin reports and progress as their payloads, and skips requests', () => {
    const [event] = decode(t.event('fault'), { severity: 'critical', message: 'jam' })
    assert.deepEqual(event?.payload, { severity: 'critical', message: 'jam' })
    assert.equal(event.kind, 'event')
    const [twin] = decode(t.twinReported(), { firmware: '2.1.0' })
    assert.deepEqual([twin?.kind, twin?.payload], ['twin.reported', { firmware: '2.1.0' }])
    assert.deepEqual(decode(t.twinGet(), {}), [])
  })
})
