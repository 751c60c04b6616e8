import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { BrokerMessage } from '../message.js'
import type { OutgoingEntry } from './session-store.js'
import { WriteBatch } from './write-batch.js'

const message: BrokerMessage = {
  topic: 't',
  payload: new Uint8Array(),
  qos: 1,
  retain: false,
  properties: {},
  createdAtMs: 0,
}
const entry = (seq: number): OutgoingEntry => ({
  seq,
  state: 'queued',
  message,
  qos: 1,
  retain: false,
})

describe('WriteBatch', () => {
  it('drops a put and its delete when the key is not on disk', () => {
    const b = new WriteBatch()
    b.putOutgoing('c', entry(1))
    b.putIncomingQos2('c', 5)
    b.deleteOutgoing('c', 1, false)
    b.deleteIncomingQos2('c', 5, false)
    assert.equal(b.isEmpty, true)
    assert.equal(b.cancelled, 4)
  })

  it('keeps the delete when the key may be on disk', () => {
    const b = new WriteBatch()
    b.putOutgoing('c', entry(1))
    b.deleteOutgoing('c', 1, true)
    b.deleteIncomingQos2('c', 5, true)
    const ops = b.clients.get('c')
    assert.deepEqual([...(ops?.outgoing ?? [])], [[1, null]])
    assert.deepEqual([...(ops?.incomingQos2 ?? [])], [[5, false]])
  })

  it('records nothing for a delete of a key neither pending nor on disk', () => {
    const b = new WriteBatch()
    b.deleteOutgoing('c', 1, false)
    b.deleteIncomingQos2('c', 1, false)
    assert.equal(b.isEmpty, true)
    assert.equal(b.cancelled, 0)
  })

  it('keeps only the last write per key', () => {
    const b = new WriteBatch()
    b.putOutgoing('c', entry(1))
    const inflight = { ...entry(1), state: 'inflight' as const, packetId: 3 }
    b.putOutgoing('c', inflight)
    b.putRetained(message)
    b.deleteRetained('t')
    assert.deepEqual([...(b.clients.get('c')?.outgoing ?? [])], [[1, inflight]])
    assert.deepEqual([...b.retained], [['t', null]])
  })

  it('turns deleteSession into a reset that later writes build on', () => {
    const b = new WriteBatch()
    b.putOutgoing('c', entry(1))
    b.deleteSession('c', true)
    b.upsertSession({ clientId: 'c', protocolVersion: 5, expiryIntervalSec: 1 })
    b.putOutgoing('c', entry(2))
    b.deleteOutgoing('c', 2, true) // the reset deletes whatever is on disk anyway
    const ops = b.clients.get('c')
    assert.equal(ops?.reset, true)
    assert.equal(ops.outgoing.size, 0)
    assert.equal(ops.meta?.clientId, 'c')
  })

  it('forgets a session created and deleted within the batch', () => {
    const b = new WriteBatch()
    b.upsertSession({ clientId: 'c', protocolVersion: 5, expiryIntervalSec: 1 })
    b.putOutgoing('c', entry(1))
    b.deleteSession('c', false)
    assert.equal(b.isEmpty, true)
    assert.equal(b.cancelled, 3)
  })
})
