import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createScheduler, type Timed } from './scheduler.js'

interface Item extends Timed {
  readonly name: number
}

type Op =
  | { readonly kind: 'schedule'; readonly item: number; readonly at: number }
  | { readonly kind: 'cancel'; readonly item: number }
  | { readonly kind: 'run'; readonly advance: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('schedule' as const), item: fc.nat(19), at: fc.nat(1_000) }),
  fc.record({ kind: fc.constant('cancel' as const), item: fc.nat(19) }),
  fc.record({ kind: fc.constant('run' as const), advance: fc.nat(300) }),
)

describe('scheduler', () => {
  it('fires exactly the items due, earliest first, each at most once per schedule', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        let now = 0
        const scheduler = createScheduler({ clock: () => now, timer: false })
        const fired: { name: number; dueAt: number; at: number }[] = []
        const items: Item[] = Array.from({ length: 20 }, (_, name) => ({
          name,
          dueAt: 0,
          heapIndex: -1,
          fire(at: number) {
            fired.push({ name, dueAt: this.dueAt, at })
          },
        }))
        // The model: what is scheduled, and when.
        const model = new Map<number, number>()
        for (const o of ops) {
          if (o.kind === 'schedule') {
            const at = now + o.at
            scheduler.schedule(items[o.item]!, at)
            model.set(o.item, at)
          } else if (o.kind === 'cancel') {
            scheduler.cancel(items[o.item]!)
            model.delete(o.item)
          } else {
            now += o.advance
            fired.length = 0
            scheduler.runDue(now)
            const due = [...model].filter(([, at]) => at <= now)
            assert.deepEqual(
              fired.map((f) => f.name).sort((a, b) => a - b),
              due.map(([name]) => name).sort((a, b) => a - b),
            )
            for (let i = 1; i < fired.length; i++)
              assert.ok(fired[i - 1]!.dueAt <= fired[i]!.dueAt, 'earliest first')
            for (const [name] of due) model.delete(name)
          }
          assert.equal(scheduler.size, model.size)
        }
      }),
    )
  })

  it('wakes on its own timer, and stops on close()', async () => {
    const scheduler = createScheduler()
    const times: number[] = []
    const item: Timed = {
      dueAt: 0,
      heapIndex: -1,
      fire(now) {
        times.push(now)
        if (times.length < 3) scheduler.schedule(item, now + 20)
      },
    }
    const start = Date.now()
    scheduler.schedule(item, start + 20)
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(times.length, 3)
    assert.ok(times[0]! >= start + 20)
    scheduler.schedule(item, Date.now() + 10)
    await scheduler.close()
    await scheduler.close()
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(times.length, 3, 'nothing fires after close')
    assert.equal(scheduler.size, 0)
  })

  it('keeps firing the others when one throws, and reports the error', () => {
    const errors: unknown[] = []
    const scheduler = createScheduler({
      clock: () => 10,
      timer: false,
      onError: (e) => errors.push(e),
    })
    const fired: string[] = []
    const bad: Timed = {
      dueAt: 0,
      heapIndex: -1,
      fire: () => {
        throw new Error('boom')
      },
    }
    const good: Timed = { dueAt: 0, heapIndex: -1, fire: () => fired.push('good') }
    scheduler.schedule(bad, 1)
    scheduler.schedule(good, 2)
    assert.equal(scheduler.runDue(), 2)
    assert.deepEqual(fired, ['good'])
    assert.equal((errors[0] as Error).message, 'boom')
  })
})
