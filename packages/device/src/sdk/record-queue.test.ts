import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RecordQueue } from './record-queue.js'

const r = (n: number) => ({ values: { n } })
const ns = (records: { values: Record<string, unknown> }[]) => records.map((x) => x.values['n'])

describe('RecordQueue', () => {
  it('drops the oldest beyond its bound and says how many', () => {
    const q = new RecordQueue(3)
    assert.equal(q.push([r(1), r(2)]), 0)
    assert.equal(q.push([r(3), r(4), r(5)]), 2)
    assert.equal(q.length, 3)
    assert.deepEqual(ns(q.take(10)), [3, 4, 5])
    assert.equal(q.length, 0)
  })

  it('takes in order and puts a batch back at the front', () => {
    const q = new RecordQueue(4)
    q.push([r(1), r(2), r(3)])
    const batch = q.take(2)
    q.push([r(4)])
    assert.equal(q.unshift(batch), 0)
    assert.deepEqual(ns(q.take(10)), [1, 2, 3, 4])
    q.push([r(5), r(6), r(7)])
    assert.equal(q.unshift([r(0), r(1)]), 1, 'the bound holds: the oldest goes')
    assert.deepEqual(ns(q.take(10)), [1, 5, 6, 7])
  })

  it('stays correct across many pushes and takes (head compaction)', () => {
    const q = new RecordQueue(10_000)
    let next = 0
    let expect = 0
    for (let round = 0; round < 200; round++) {
      q.push(Array.from({ length: 37 }, () => r(next++)))
      for (const x of ns(q.take(29))) assert.equal(x, expect++)
    }
    assert.equal(q.length, next - expect)
  })
})
