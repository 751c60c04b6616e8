import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SendQueue, type FrameSink } from './send-queue.js'

/** A socket that holds every frame until `flush()`: a client that does not read. */
function stalledSink() {
  const sent: string[] = []
  const pending: (() => void)[] = []
  const sink: FrameSink = {
    send(data, done) {
      sent.push(data)
      pending.push(() => done())
    },
  }
  return {
    sink,
    sent,
    flush() {
      for (const done of pending.splice(0)) done()
    },
  }
}

const telemetry = (n: number) => `{"type":"telemetry","n":${String(n)}}`
const other = (n: number) => `{"type":"twin","n":${String(n)}}`

test('drops the oldest telemetry first, keeps other frames, and reports the drop once before the next frame', () => {
  const s = stalledSink()
  let dropped = 0
  // One frame in flight at a time, two waiting.
  const q = new SendQueue(
    s.sink,
    { maxFrames: 2, inFlightBytes: 1 },
    { onDropped: (n) => (dropped += n) },
  )
  q.push(telemetry(1), true) // goes out at once
  q.push(other(2), false)
  q.push(telemetry(3), true)
  q.push(telemetry(4), true) // over the bound: telemetry 3 goes, twin 2 stays
  q.push(telemetry(5), true) // telemetry 4 goes
  assert.equal(dropped, 2)
  assert.equal(q.length, 2)
  assert.equal(q.unreportedDrops, 2)
  for (let i = 0; i < 4; i++) s.flush()
  assert.deepEqual(s.sent, [telemetry(1), '{"type":"dropped","count":2}', other(2), telemetry(5)])
  assert.equal(q.unreportedDrops, 0)
})

test('with only non-telemetry frames waiting, the oldest of those goes', () => {
  const s = stalledSink()
  const q = new SendQueue(s.sink, { maxFrames: 2, inFlightBytes: 1 })
  for (let i = 1; i <= 4; i++) q.push(other(i), false)
  for (let i = 0; i < 3; i++) s.flush()
  assert.deepEqual(s.sent, [other(1), '{"type":"dropped","count":1}', other(3), other(4)])
})

test('the byte bound holds as well as the frame bound', () => {
  const s = stalledSink()
  const q = new SendQueue(s.sink, { maxFrames: 1000, maxBytes: 100, inFlightBytes: 1 })
  const big = `{"type":"telemetry","pad":"${'x'.repeat(60)}"}`
  q.push(big, true) // in flight
  q.push(big, true)
  q.push(big, true) // 2 × 80 bytes > 100: the older one goes
  assert.equal(q.length, 1)
  assert.equal(q.unreportedDrops, 1)
})

test('frames leave in the order they came while the socket keeps up; nothing after close()', () => {
  const sent: string[] = []
  const q = new SendQueue({
    send: (d, done) => {
      sent.push(d)
      done()
    },
  })
  q.push(other(1), false)
  q.push(telemetry(2), true)
  q.push(other(3), false)
  assert.deepEqual(sent, [other(1), telemetry(2), other(3)])
  q.close()
  q.push(other(4), false)
  assert.equal(sent.length, 3)
})

test('a socket error stops the queue', () => {
  let calls = 0
  const q = new SendQueue({
    send: (_d, done) => {
      calls++
      done(new Error('closed'))
    },
  })
  q.push(other(1), false)
  q.push(other(2), false)
  assert.equal(calls, 1)
  assert.equal(q.length, 0)
})
