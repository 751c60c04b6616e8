import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RecordBuffers } from './record-buffers.js'

describe('RecordBuffers', () => {
  it('hands out buffers of the asked size at offset 0 of their own memory', () => {
    const buffers = new RecordBuffers()
    for (const size of [1, 8, 1000, 70_000]) {
      const b = buffers.take(size)
      assert.equal(b.length, size)
      assert.equal(b.byteOffset, 0)
    }
  })

  it('reuses a buffer given back for a record that fits, and no buffer twice at once', () => {
    const buffers = new RecordBuffers()
    const first = buffers.take(10_000)
    buffers.give(first)
    const second = buffers.take(9_000)
    assert.equal(second.buffer, first.buffer)
    const third = buffers.take(9_000)
    assert.notEqual(third.buffer, second.buffer)
  })

  it('keeps at most its bound of buffers, and none over its size limit', () => {
    const buffers = new RecordBuffers(2, 1 << 20)
    const big = buffers.take(2 << 20)
    buffers.give(big)
    assert.notEqual(buffers.take(1000).buffer, big.buffer)
    const taken = [buffers.take(100), buffers.take(200_000), buffers.take(300_000)]
    for (const b of taken) buffers.give(b)
    // The two largest are kept: a record of 260 kB gets the 300 kB one's memory.
    assert.equal(buffers.take(260_000).buffer, (taken[2] as Buffer).buffer)
    assert.equal(buffers.take(150_000).buffer, (taken[1] as Buffer).buffer)
    assert.notEqual(buffers.take(50).buffer, (taken[0] as Buffer).buffer)
  })
})
