import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { classifyConnectRefusal, describeReasonCode, isRetryablePuback } from './reason-codes.js'

describe('reason codes', () => {
  it('stops on refusals about who the device is, retries the rest (MQTT 5)', () => {
    for (const code of [0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c])
      assert.equal(classifyConnectRefusal(code, 5).fatal, true, describeReasonCode(code))
    for (const code of [0x80, 0x88, 0x89, 0x8b, 0x97, 0x9c, 0x9f])
      assert.equal(classifyConnectRefusal(code, 5).fatal, false, describeReasonCode(code))
  })

  it('maps MQTT 3.1.1 return codes: only 3 (server unavailable) is retried', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((code) => classifyConnectRefusal(code, 4).fatal),
      [true, true, false, true, true],
    )
    assert.match(
      classifyConnectRefusal(4, 4).description,
      /return code 4 \(bad user name or password\)/,
    )
  })

  it('retries a PUBACK for quota exceeded or busy, never for invalid or unstorable data', () => {
    assert.equal(isRetryablePuback(0x97), true)
    assert.equal(isRetryablePuback(0x89), true)
    assert.equal(isRetryablePuback(0x99), false)
    assert.equal(isRetryablePuback(0x83), false)
    assert.equal(describeReasonCode(0x99), '0x99 payload format invalid')
  })
})
