import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  connect,
  eventually,
  inboxOf,
  startBroker,
  testTimeoutMs,
  type Received,
} from './helpers.js'

const opts = { timeout: testTimeoutMs }

function latest(messages: readonly Received[], name: string): string | undefined {
  return messages.filter((m) => m.topic === `$SYS/broker/${name}`).at(-1)?.payload
}

describe('$SYS topics', { concurrency: true }, () => {
  it('publishes broker metrics under $SYS/broker/ and refreshes them', opts, async (t) => {
    const b = await startBroker(t, {
      settings: { sysIntervalSec: 1, version: 'strata-test 1.2.3' },
    })
    const watcher = await connect(t, b.url, { protocolVersion: 5 })
    await watcher.subscribeAsync('$SYS/broker/#', { qos: 0 })
    const inbox = inboxOf(watcher)
    await eventually(
      () => latest(inbox.messages, 'clients/connected') !== undefined,
      1_500,
      'clients/connected',
    )
    const names = new Set(inbox.messages.map((m) => m.topic.slice('$SYS/broker/'.length)))
    for (const name of [
      'version',
      'uptime',
      'clients/connected',
      'clients/total',
      'messages/received',
      'messages/sent',
      'subscriptions/count',
    ])
      assert.ok(names.has(name), `$SYS/broker/${name}`)
    assert.equal(latest(inbox.messages, 'version'), 'strata-test 1.2.3')
    await connect(t, b.url, { protocolVersion: 4 })
    await eventually(
      () => latest(inbox.messages, 'clients/connected') === '2',
      2_500,
      () => `clients/connected is ${String(latest(inbox.messages, 'clients/connected'))}`,
    )
    assert.match(latest(inbox.messages, 'uptime') ?? '', /^\d+ seconds$/)
  })

  it('keeps $SYS topics out of subscriptions that start with a wildcard', opts, async (t) => {
    const b = await startBroker(t, { settings: { sysIntervalSec: 1 } })
    const all = await connect(t, b.url, { protocolVersion: 5 })
    await all.subscribeAsync({ '#': { qos: 0 }, '+/broker/#': { qos: 0 } })
    const pub = await connect(t, b.url, { protocolVersion: 5 })
    await pub.publishAsync('normal/t', 'x', { qos: 1 })
    await inboxOf(all).waitFor(1)
    const got = await inboxOf(all).settle(1_300)
    assert.deepEqual(
      got.map((m) => m.topic).filter((topic) => topic.startsWith('$')),
      [],
      '[MQTT-4.7.2-1]',
    )
  })

  it('does not let clients publish to $SYS', opts, async (t) => {
    const b = await startBroker(t, { settings: { sysIntervalSec: 1 } })
    const watcher = await connect(t, b.url, { protocolVersion: 5 })
    await watcher.subscribeAsync('$SYS/broker/fake', { qos: 0 })
    const pub = await connect(t, b.url, { protocolVersion: 5 })
    await assert.rejects(pub.publishAsync('$SYS/broker/fake', 'spoof', { qos: 1 }), { code: 0x87 })
    assert.deepEqual(await inboxOf(watcher).settle(200), [])
  })

  it('publishes nothing under $SYS when sysIntervalSec is 0', opts, async (t) => {
    const b = await startBroker(t, { settings: { sysIntervalSec: 0 } })
    const watcher = await connect(t, b.url, { protocolVersion: 5 })
    await watcher.subscribeAsync('$SYS/#', { qos: 0 })
    assert.deepEqual(await inboxOf(watcher).settle(300), [])
  })
})
