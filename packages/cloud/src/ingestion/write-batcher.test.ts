import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { SeriesBatch, TimeSeriesStore } from '@strata/tsdb'
import { WriteBatcher } from './write-batcher.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

function batch(device: string, time: number): SeriesBatch[] {
  return [{ series: { tenant: 't', device, metric: 'temp' }, times: [time], values: [21.5] }]
}

/** A store whose writes stay in flight until released, one by one. */
function slowStore() {
  const writes: { points: number; release: () => void }[] = []
  const store = {
    write: (batches: readonly SeriesBatch[]) => {
      const points = batches.reduce((n, b) => n + b.times.length, 0)
      return new Promise((resolve) => {
        writes.push({ points, release: () => resolve({ points, series: batches.length }) })
      })
    },
  } as unknown as TimeSeriesStore
  return { store, writes }
}

test('joins the writes of one event-loop turn into one store write', async () => {
  const { store, writes } = slowStore()
  const batcher = new WriteBatcher(store)
  const done = Promise.all([batcher.write(batch('a', 1)), batcher.write(batch('b', 1))])
  await nextTurn()
  assert.equal(writes.length, 1)
  const [only] = writes
  assert.equal(only?.points, 2)
  only.release()
  await done
})

test('hands a new group to the store while the one before is still being synced', async () => {
  const { store, writes } = slowStore()
  const batcher = new WriteBatcher(store)
  let firstDone = false
  const first = batcher.write(batch('a', 1)).then(() => {
    firstDone = true
  })
  await nextTurn()
  const second = batcher.write(batch('a', 2))
  await nextTurn()
  // The store's log joins both into one sync; waiting here would cost a sync per group.
  assert.equal(writes.length, 2)
  writes[1]?.release()
  await second
  assert.equal(firstDone, false)
  const drained = batcher.drain()
  writes[0]?.release()
  await drained
  await first
  assert.equal(firstDone, true)
})
