import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnalyticsError } from '../errors.js'
import { Heartbeat } from './heartbeat.js'

describe('Heartbeat', () => {
  it('reports silence once, on the tick that finds it, and the point that ends it', () => {
    const hb = new Heartbeat({ timeoutMs: 60_000 })
    assert.equal(hb.tick(0), undefined, 'nothing seen yet: nothing to say')
    assert.deepEqual(hb.step(1_000), {
      silent: false,
      lastSeen: 1_000,
      silentMs: 0,
      changed: false,
    })
    assert.equal(hb.deadline, 61_000)
    assert.deepEqual(hb.tick(60_999), {
      silent: false,
      lastSeen: 1_000,
      silentMs: 59_999,
      changed: false,
    })
    assert.deepEqual(hb.tick(61_000), {
      silent: true,
      lastSeen: 1_000,
      silentMs: 60_000,
      changed: true,
    })
    assert.equal(hb.deadline, undefined, 'silent: no further deadline')
    assert.deepEqual(hb.tick(90_000), {
      silent: true,
      lastSeen: 1_000,
      silentMs: 89_000,
      changed: false,
    })
    assert.deepEqual(hb.step(95_000), {
      silent: false,
      lastSeen: 95_000,
      silentMs: 0,
      changed: true,
    })
    assert.equal(hb.step(94_000)?.lastSeen, 95_000, 'a late point does not move lastSeen back')
  })

  it('refuses a timeout that is not positive', () => {
    assert.throws(() => new Heartbeat({ timeoutMs: 0 }), AnalyticsError)
  })
})
