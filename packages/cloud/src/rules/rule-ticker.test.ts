import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { RuleTicker } from './rule-ticker.js'

test('ticks at the earliest deadline it was told of, then at the one onTick returns', async (t) => {
  const ticks: number[] = []
  let next: number | undefined
  const ticker = new RuleTicker({
    clock: Date.now,
    onTick: (now) => {
      ticks.push(now)
      const n = next
      next = undefined
      return n
    },
  })
  t.after(() => ticker.close())
  const start = Date.now()
  ticker.schedule(start + 400)
  ticker.schedule(start + 50) // earlier: moves the timer
  ticker.schedule(start + 600) // later: ignored
  assert.equal(ticker.armedAt, start + 50)
  next = start + 300
  await sleep(200)
  assert.equal(ticks.length, 1)
  assert.ok((ticks[0] ?? 0) >= start + 50)
  assert.equal(ticker.armedAt, start + 300)
  await sleep(300)
  assert.equal(ticks.length, 2)
  assert.ok((ticks[1] ?? 0) >= start + 300)
  assert.equal(ticker.armedAt, undefined) // onTick returned nothing: the 400 and 600 were dropped
})

test('coalesces deadlines in the past to one tick per minIntervalMs', async (t) => {
  let ticks = 0
  const ticker = new RuleTicker(
    {
      clock: Date.now,
      onTick: (now) => {
        ticks++
        return now - 1_000 // always overdue
      },
    },
    { minIntervalMs: 50 },
  )
  t.after(() => ticker.close())
  ticker.schedule(0)
  await sleep(230)
  ticker.close()
  assert.ok(ticks >= 3 && ticks <= 6, `ticks: ${String(ticks)}`)
})

test('close stops the timer for good', async () => {
  let ticks = 0
  const ticker = new RuleTicker({ clock: Date.now, onTick: () => (ticks++, undefined) })
  ticker.schedule(Date.now() + 20)
  ticker.close()
  ticker.schedule(Date.now() + 10)
  await sleep(60)
  assert.equal(ticks, 0)
})
