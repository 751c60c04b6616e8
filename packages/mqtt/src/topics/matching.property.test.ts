import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseSharedFilter, topicMatches } from '@strata/protocol'
import fc from 'fast-check'
import type { BrokerMessage } from '../message.js'
import { RetainedIndex } from './retained-index.js'
import { SubscriptionTree } from './subscription-tree.js'

// A small vocabulary makes collisions (same filter, overlapping filters, shared prefixes,
// empty levels, `$` topics) frequent; `topicMatches` from @strata/protocol is the reference.
const numRuns = 500
const topicLevel = fc.constantFrom('', '$SYS', 'a', 'b')
const filterLevel = fc.constantFrom('', '$SYS', 'a', 'b', '+')

const topic = fc
  .array(topicLevel, { minLength: 1, maxLength: 4 })
  .map((levels) => levels.join('/'))
  .filter((t) => t.length > 0)

/** A valid filter: `#` only as the last level [MQTT-4.7.1-1]; sometimes `$share/{group}/`. */
const plainFilter = fc
  .tuple(fc.array(filterLevel, { maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((f) => f.length > 0)
const filter = fc
  .tuple(fc.option(fc.constantFrom('g1', 'g2'), { nil: undefined }), plainFilter)
  .map(([group, inner]) => (group === undefined ? inner : `$share/${group}/${inner}`))
const clientId = fc.constantFrom('c1', 'c2', 'c3')

interface Entry {
  readonly filter: string
  readonly clientId: string
  readonly value: number
}

interface Op {
  readonly kind: 'add' | 'remove'
  readonly entry: Entry
}

const entry: fc.Arbitrary<Entry> = fc.record({ filter, clientId, value: fc.nat(9) })
/** Draws from a small pool of keys, so that removes and replaces hit as often as they miss. */
function opsOver<K, V>(
  pool: fc.Arbitrary<K[]>,
  kinds: readonly [V, V],
): fc.Arbitrary<{ kind: V; key: K; value: number }[]> {
  return pool.chain((keys) =>
    fc.array(
      fc
        .record({ kind: fc.constantFrom(...kinds), i: fc.nat(keys.length - 1), value: fc.nat(9) })
        .map(({ kind, i, value }) => ({ kind, key: keys[i]!, value })),
      { maxLength: 60 },
    ),
  )
}

const keyPool = fc.uniqueArray(fc.record({ filter, clientId }), {
  selector: (k) => `${k.filter}\u0000${k.clientId}`,
  minLength: 1,
  maxLength: 8,
})
const ops: fc.Arbitrary<Op[]> = opsOver(keyPool, ['add', 'remove'] as const).map((list) =>
  list.map(({ kind, key, value }) => ({ kind, entry: { ...key, value } })),
)

const keyOf = (e: { filter: string; clientId: string }): string => `${e.filter}\u0000${e.clientId}`

function actualMatches(tree: SubscriptionTree<number>, t: string): string[] {
  const found: string[] = []
  tree.forEachMatch(t, (id, value, f) => found.push(`${id} ${f} ${String(value)}`))
  return found.sort()
}

function expectedMatches(entries: Iterable<Entry>, t: string): string[] {
  const found: string[] = []
  for (const e of entries) {
    if (parseSharedFilter(e.filter) !== undefined || !topicMatches(e.filter, t)) continue
    found.push(`${e.clientId} ${e.filter} ${String(e.value)}`)
  }
  return found.sort()
}

function actualShared(tree: SubscriptionTree<number>, t: string): string[] {
  const found: string[] = []
  tree.forEachSharedMatch(t, (key, members) => {
    const list = [...members].map(([id, value]) => `${id}=${String(value)}`)
    found.push(`${key}: ${list.sort().join(',')}`)
  })
  return found.sort()
}

function expectedShared(entries: Iterable<Entry>, t: string): string[] {
  const groups = new Map<string, string[]>()
  for (const e of entries) {
    const shared = parseSharedFilter(e.filter)
    if (shared === undefined || 'error' in shared || !topicMatches(shared.filter, t)) continue
    const key = `${shared.group}/${shared.filter}`
    groups.set(key, [...(groups.get(key) ?? []), `${e.clientId}=${String(e.value)}`])
  }
  return [...groups].map(([key, list]) => `${key}: ${list.sort().join(',')}`).sort()
}

function assertSameMatches(tree: SubscriptionTree<number>, ref: Map<string, Entry>, t: string) {
  assert.deepEqual(actualMatches(tree, t), expectedMatches(ref.values(), t), t)
  assert.deepEqual(actualShared(tree, t), expectedShared(ref.values(), t), t)
}

describe('SubscriptionTree against topicMatches', () => {
  it('forEachMatch and forEachSharedMatch equal brute force over every entry', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 30 }),
        fc.array(topic, { minLength: 1 }),
        (entries, topics) => {
          const tree = new SubscriptionTree<number>()
          const ref = new Map<string, Entry>()
          for (const e of entries) {
            tree.add(e.filter, e.clientId, e.value)
            ref.set(keyOf(e), e)
          }
          for (const t of topics) assertSameMatches(tree, ref, t)
        },
      ),
      { numRuns },
    )
  })

  it('add and remove keep size and matches equal to a reference Map', () => {
    fc.assert(
      fc.property(ops, fc.array(topic, { minLength: 1 }), (ops, topics) => {
        const tree = new SubscriptionTree<number>()
        const ref = new Map<string, Entry>()
        for (const { kind, entry: e } of ops) {
          const key = keyOf(e)
          if (kind === 'add') {
            assert.equal(tree.add(e.filter, e.clientId, e.value), !ref.has(key))
            ref.set(key, e)
          } else {
            assert.equal(tree.remove(e.filter, e.clientId), ref.delete(key))
          }
          assert.equal(tree.size, ref.size)
        }
        for (const t of topics) assertSameMatches(tree, ref, t)
      }),
      { numRuns },
    )
  })

  it('is empty after removing every entry, in any order, and usable again', () => {
    const entries = fc.uniqueArray(entry, { selector: keyOf, maxLength: 30 })
    fc.assert(
      fc.property(
        entries.chain((es) =>
          fc.tuple(fc.constant(es), fc.shuffledSubarray(es, { minLength: es.length })),
        ),
        topic,
        ([added, removed], t) => {
          const tree = new SubscriptionTree<number>()
          for (const e of added) tree.add(e.filter, e.clientId, e.value)
          for (const e of removed) assert.equal(tree.remove(e.filter, e.clientId), true)
          assert.equal(tree.size, 0)
          assertSameMatches(tree, new Map(), t)
          for (const e of added) assert.equal(tree.add(e.filter, e.clientId, e.value), true)
          assertSameMatches(tree, new Map(added.map((e) => [keyOf(e), e])), t)
        },
      ),
      { numRuns },
    )
  })
})

function message(t: string, value: number): BrokerMessage {
  return {
    topic: t,
    payload: Uint8Array.of(value),
    qos: 0,
    retain: true,
    properties: {},
    createdAtMs: 0,
  }
}

const topicPool = fc.uniqueArray(topic, { minLength: 1, maxLength: 12 })
const retainedOps = opsOver(topicPool, ['set', 'delete'] as const).map((list) =>
  list.map(({ kind, key, value }) => ({ kind, topic: key, value })),
)

describe('RetainedIndex against topicMatches', () => {
  it('forEachMatch equals brute force over every topic, and set/delete track a reference Map', () => {
    fc.assert(
      fc.property(retainedOps, fc.array(plainFilter, { minLength: 1 }), (ops, filters) => {
        const index = new RetainedIndex()
        const ref = new Map<string, BrokerMessage>()
        for (const { kind, topic: t, value } of ops) {
          if (kind === 'set') {
            const m = message(t, value)
            index.set(m)
            ref.set(t, m)
          } else {
            assert.equal(index.delete(t), ref.delete(t))
          }
          assert.equal(index.size, ref.size)
          assert.equal(index.get(t), ref.get(t))
        }
        assert.deepEqual(new Set(index.values()), new Set(ref.values()))
        for (const f of filters) {
          const found: BrokerMessage[] = []
          index.forEachMatch(f, (m) => found.push(m))
          const expected = [...ref.values()].filter((m) => topicMatches(f, m.topic))
          assert.deepEqual(new Set(found), new Set(expected), f)
          assert.equal(found.length, expected.length, `${f}: each message once`)
        }
      }),
      { numRuns },
    )
  })
})
