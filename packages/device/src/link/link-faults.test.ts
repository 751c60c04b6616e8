import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LinkFaults } from './link-faults.js'

const text = (writes: readonly { buf: Buffer }[]): string[] => writes.map((w) => w.buf.toString())

describe('link faults', () => {
  it('refuses connects until the longest partition ends', () => {
    const faults = new LinkFaults()
    assert.equal(faults.isPartitioned(0), false)
    faults.partition(1_000)
    faults.partition(500)
    assert.equal(faults.isPartitioned(999), true)
    assert.equal(faults.isPartitioned(1_000), false)
  })

  it('holds writes during a delay and releases them in order when due', () => {
    const faults = new LinkFaults()
    assert.equal(faults.holds(0), false, 'no delay: writes go at once')
    faults.delayWrites(100, 1_000)
    assert.equal(faults.holds(10), true)
    assert.equal(faults.hold(Buffer.from('a'), 10), 110)
    assert.equal(faults.hold(Buffer.from('b'), 50), 150)
    assert.equal(faults.nextDueAt, 110)
    assert.deepEqual(text(faults.takeDue(100)), [])
    assert.deepEqual(text(faults.takeDue(110)), ['a'], 'due at its time exactly')
    assert.equal(faults.nextDueAt, 150)
    assert.deepEqual(text(faults.takeDue(200)), ['b'])
    assert.equal(faults.nextDueAt, undefined)
  })

  it('keeps order after the delay ends while older writes still wait', () => {
    const faults = new LinkFaults()
    faults.delayWrites(300, 100)
    faults.hold(Buffer.from('a'), 50)
    assert.equal(faults.holds(200), true, 'a write after the delay still queues behind "a"')
    faults.hold(Buffer.from('b'), 200)
    assert.deepEqual(text(faults.takeDue(Number.POSITIVE_INFINITY)), ['a', 'b'])
    assert.equal(faults.holds(600), false)
  })

  it('forgets held writes when the connection goes, not the delay', () => {
    const faults = new LinkFaults()
    faults.delayWrites(100, 1_000)
    faults.hold(Buffer.from('a'), 0)
    faults.dropHeld()
    assert.equal(faults.nextDueAt, undefined)
    assert.deepEqual(text(faults.takeDue(Number.POSITIVE_INFINITY)), [])
    assert.equal(faults.holds(500), true)
  })
})
