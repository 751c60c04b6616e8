import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SubscriptionTree } from './subscription-tree.js'

/** The subscriptions a topic reaches, as sorted `clientId filter` lines. */
function matches<S>(tree: SubscriptionTree<S>, topic: string): string[] {
  const found: string[] = []
  tree.forEachMatch(topic, (clientId, _value, filter) => found.push(`${clientId} ${filter}`))
  return found.sort()
}

/** The share groups a topic reaches, as sorted `key: member,member` lines. */
function sharedMatches<S>(tree: SubscriptionTree<S>, topic: string): string[] {
  const found: string[] = []
  tree.forEachSharedMatch(topic, (key, members) => {
    found.push(`${key}: ${[...members.keys()].sort().join(',')}`)
  })
  return found.sort()
}

function treeOf(...filters: string[]): SubscriptionTree<number> {
  const tree = new SubscriptionTree<number>()
  for (const filter of filters) tree.add(filter, 'c', 0)
  return tree
}

/** True when `filter` alone matches `topic`. */
function isMatch(filter: string, topic: string): boolean {
  return matches(treeOf(filter), topic).length === 1
}

describe('SubscriptionTree matching', () => {
  it('matches a literal filter only on the same levels [MQTT-4.7.3-4]', () => {
    assert.equal(isMatch('a/b', 'a/b'), true)
    for (const topic of ['a', 'a/b/c', 'a/bc', 'A/b', 'a/b/', '/a/b']) {
      assert.equal(isMatch('a/b', topic), false, topic)
    }
  })

  it('+ matches exactly one level (§4.7.1.3)', () => {
    assert.equal(isMatch('a/+', 'a/b'), true)
    assert.equal(isMatch('a/+/c', 'a/b/c'), true)
    assert.equal(isMatch('+', 'a'), true)
    assert.equal(isMatch('a/+', 'a'), false)
    assert.equal(isMatch('a/+', 'a/b/c'), false)
    assert.equal(isMatch('+/+', 'a'), false)
  })

  it('+ matches an empty level (§4.7.1.3)', () => {
    assert.equal(isMatch('a/+', 'a/'), true)
    assert.equal(isMatch('+/+', '/'), true)
    assert.equal(isMatch('+/a', '/a'), true)
    assert.equal(isMatch('a/+/c', 'a//c'), true)
  })

  it('matches the parent level with # (§4.7.1.2)', () => {
    assert.equal(isMatch('a/#', 'a'), true)
    assert.equal(isMatch('a/b/#', 'a/b'), true)
    assert.equal(isMatch('+/#', 'a'), true)
  })

  it('# matches any number of child levels (§4.7.1.2)', () => {
    for (const topic of ['a/b', 'a/b/c/d', 'a/', 'a//']) assert.equal(isMatch('a/#', topic), true)
    for (const topic of ['ab', 'b/a', '/a']) assert.equal(isMatch('a/#', topic), false, topic)
    for (const topic of ['a', '/', 'a/b/c']) assert.equal(isMatch('#', topic), true, topic)
  })

  it('does not match $SYS/x with # or + [MQTT-4.7.2-1]', () => {
    for (const filter of ['#', '+/x', '+/#', '+']) {
      assert.equal(isMatch(filter, '$SYS/x'), false, filter)
      assert.equal(isMatch(filter, '$SYS'), false, filter)
    }
  })

  it('matches $ topics with a filter that names the $ level [MQTT-4.7.2-1]', () => {
    assert.equal(isMatch('$SYS/#', '$SYS/x'), true)
    assert.equal(isMatch('$SYS/#', '$SYS'), true)
    assert.equal(isMatch('$SYS/+', '$SYS/x'), true)
    assert.equal(isMatch('$SYS/x', '$SYS/x'), true)
  })

  it('treats $ as an ordinary character below the first level [MQTT-4.7.2-1]', () => {
    assert.equal(isMatch('a/+', 'a/$x'), true)
    assert.equal(isMatch('#', 'a/$SYS'), true)
  })

  it('visits a client with overlapping filters once per filter', () => {
    const tree = treeOf('a/b', 'a/+', 'a/#', '#', '+/b', 'a/c')
    assert.deepEqual(matches(tree, 'a/b'), ['c #', 'c +/b', 'c a/#', 'c a/+', 'c a/b'])
  })

  it('hands each visit the value and the filter as subscribed', () => {
    const tree = new SubscriptionTree<string>()
    tree.add('a/+', 'c1', 'one')
    tree.add('a/#', 'c2', 'two')
    const seen: [string, string, string][] = []
    tree.forEachMatch('a/x', (clientId, value, filter) => seen.push([clientId, value, filter]))
    assert.deepEqual(seen.sort(), [
      ['c1', 'one', 'a/+'],
      ['c2', 'two', 'a/#'],
    ])
  })

  it('visits nothing in an empty tree', () => {
    assert.deepEqual(matches(new SubscriptionTree(), 'a'), [])
    assert.deepEqual(sharedMatches(new SubscriptionTree(), 'a'), [])
  })
})

describe('SubscriptionTree add and remove', () => {
  it('replaces an existing (filter, clientId), keeping the size [MQTT-3.8.4-3]', () => {
    const tree = new SubscriptionTree<number>()
    assert.equal(tree.add('a/+', 'c1', 1), true)
    assert.equal(tree.add('a/+', 'c1', 2), false)
    assert.equal(tree.size, 1)
    const values: number[] = []
    tree.forEachMatch('a/b', (_clientId, value) => values.push(value))
    assert.deepEqual(values, [2])
  })

  it('counts each (filter, clientId) once, shared ones included', () => {
    const tree = new SubscriptionTree<number>()
    tree.add('a', 'c1', 0)
    tree.add('a', 'c2', 0)
    tree.add('a/#', 'c1', 0)
    tree.add('$share/g/a', 'c1', 0)
    tree.add('$share/h/a', 'c1', 0)
    assert.equal(tree.size, 5)
  })

  it('returns false when removing what is not there', () => {
    const tree = treeOf('a/b')
    assert.equal(tree.remove('a/b', 'other'), false)
    assert.equal(tree.remove('a', 'c'), false)
    assert.equal(tree.remove('a/b/c', 'c'), false)
    assert.equal(tree.remove('$share/g/a/b', 'c'), false)
    assert.equal(tree.size, 1)
  })

  it('removes one subscription and keeps the others on the same and nearby nodes', () => {
    const tree = new SubscriptionTree<number>()
    tree.add('a/b', 'c1', 0)
    tree.add('a/b', 'c2', 0)
    tree.add('a/b/c', 'c1', 0)
    tree.add('a/#', 'c1', 0)
    assert.equal(tree.remove('a/b', 'c1'), true)
    assert.equal(tree.size, 3)
    assert.deepEqual(matches(tree, 'a/b'), ['c1 a/#', 'c2 a/b'])
    assert.deepEqual(matches(tree, 'a/b/c'), ['c1 a/#', 'c1 a/b/c'])
  })

  it('prunes emptied branches: nothing matches and the filter can be added again', () => {
    const tree = new SubscriptionTree<number>()
    const filters = ['a/b/c', 'a/+/c', 'a/#', '+/+/+', '$share/g/a/b/c']
    for (const filter of filters) tree.add(filter, 'c', 0)
    for (const filter of filters) assert.equal(tree.remove(filter, 'c'), true, filter)
    assert.equal(tree.size, 0)
    assert.deepEqual(matches(tree, 'a/b/c'), [])
    assert.deepEqual(sharedMatches(tree, 'a/b/c'), [])
    for (const filter of filters) assert.equal(tree.remove(filter, 'c'), false, filter)
    assert.equal(tree.add('a/b/c', 'c', 1), true)
    assert.deepEqual(matches(tree, 'a/b/c'), ['c a/b/c'])
  })

  it('keeps a node that still has children when its own subscriptions go', () => {
    const tree = treeOf('a', 'a/b')
    tree.remove('a', 'c')
    assert.deepEqual(matches(tree, 'a/b'), ['c a/b'])
    assert.deepEqual(matches(tree, 'a'), [])
  })

  it('lets a visit remove subscriptions during the walk', () => {
    const tree = treeOf('a/b', 'a/+', 'a/#')
    const seen: string[] = []
    tree.forEachMatch('a/b', (clientId, _value, filter) => {
      seen.push(filter)
      tree.remove(filter, clientId)
    })
    assert.equal(seen.length, 3)
    assert.equal(tree.size, 0)
  })
})

describe('SubscriptionTree shared subscriptions (§4.8.2)', () => {
  it('matches the inner filter, through forEachSharedMatch only', () => {
    const tree = new SubscriptionTree<number>()
    tree.add('$share/g/a/+', 'c1', 0)
    assert.deepEqual(matches(tree, 'a/x'), [])
    assert.deepEqual(sharedMatches(tree, 'a/x'), ['g/a/+: c1'])
    assert.deepEqual(sharedMatches(tree, 'a'), [])
  })

  it('keeps two groups on the same filter as two keys', () => {
    const tree = new SubscriptionTree<number>()
    tree.add('$share/g1/a/#', 'c1', 0)
    tree.add('$share/g1/a/#', 'c2', 0)
    tree.add('$share/g2/a/#', 'c1', 0)
    tree.add('$share/g1/a/b', 'c3', 0)
    assert.deepEqual(sharedMatches(tree, 'a/b'), ['g1/a/#: c1,c2', 'g1/a/b: c3', 'g2/a/#: c1'])
  })

  it('keeps a client subscribed both shared and not on one filter as two entries', () => {
    const tree = new SubscriptionTree<number>()
    assert.equal(tree.add('a', 'c1', 0), true)
    assert.equal(tree.add('$share/g/a', 'c1', 0), true)
    assert.equal(tree.remove('a', 'c1'), true)
    assert.deepEqual(sharedMatches(tree, 'a'), ['g/a: c1'])
  })

  it('hands out a live members map that follows adds and removes', () => {
    const tree = new SubscriptionTree<number>()
    tree.add('$share/g/a', 'c1', 1)
    let members: ReadonlyMap<string, number> | undefined
    tree.forEachSharedMatch('a', (_key, m) => (members = m))
    tree.add('$share/g/a', 'c2', 2)
    assert.deepEqual(
      [...members!.entries()],
      [
        ['c1', 1],
        ['c2', 2],
      ],
    )
    tree.remove('$share/g/a', 'c1')
    assert.deepEqual([...members!.keys()], ['c2'])
    tree.forEachSharedMatch('a', (_key, m) => assert.equal(m, members))
  })

  it('does not match $SYS/x with $share/g/# [MQTT-4.7.2-1]', () => {
    const tree = new SubscriptionTree<number>()
    tree.add('$share/g/#', 'c1', 0)
    tree.add('$share/g/$SYS/#', 'c2', 0)
    assert.deepEqual(sharedMatches(tree, '$SYS/x'), ['g/$SYS/#: c2'])
  })
})
