// The behaviour every SessionStore shares, run against each implementation.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import fc from 'fast-check'
import { describeBasics, describeLifecycle, describeOutgoing } from './session-store.cases.js'
import { Ctx, type StoreHarness } from './session-store.harness.js'
import { applyToStore, Model, scenario, type Op } from './session-store.model.js'

export { type StoreHarness } from './session-store.harness.js'

/** Runs the SessionStore contract against the store `make` gives. */
export function describeSessionStore(name: string, make: () => StoreHarness): void {
  const open = (t: TestContext): Ctx => {
    const c = new Ctx(make())
    t.after(() => c.store.close())
    return c
  }
  describe(`SessionStore contract: ${name}`, () => {
    describeBasics(open)
    describeOutgoing(open)
    describeLifecycle(open)
    it('equals a reference model after any sequence of writes, flushes and reopens', async () => {
      // Fewer runs where each reopen costs a checkpoint and fsync (~15 ms).
      const numRuns = make().persistent ? 40 : 200
      await fc.assert(
        fc.asyncProperty(scenario, async (ops) => {
          const c = new Ctx(make())
          try {
            await runScenario(c, ops)
          } finally {
            await c.store.close()
          }
        }),
        { numRuns },
      )
    })
  })
}

async function runScenario(c: Ctx, ops: readonly Op[]): Promise<void> {
  const model = new Model()
  for (const op of ops) {
    if (op.kind === 'flush') await c.store.flush()
    if (op.kind === 'reopen') await c.reopen()
    if (model.apply(op) === 'ok') applyToStore(c.store, op)
    else assert.throws(() => applyToStore(c.store, op), { code: 'MQTT_STORE_NO_SESSION' })
  }
  assert.deepEqual(await c.reload(), model.expected())
}
