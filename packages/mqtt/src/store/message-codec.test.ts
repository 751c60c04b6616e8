import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { properties } from '../../test/store/session-store.model.js'
import { decodeProperties, encodeProperties } from './message-codec.js'
import { RowReader } from './row-reader.js'

const reader = new RowReader('messages', ['id']).at({ id: 7 })

describe('message properties codec', () => {
  it('round-trips any MQTT 5 properties', () => {
    fc.assert(
      fc.property(properties, (p) => {
        const json = encodeProperties(p)
        assert.deepEqual(json === null ? {} : decodeProperties(json, reader), p)
      }),
      { numRuns: 500 },
    )
  })

  it('stores no properties as NULL', () => {
    assert.equal(encodeProperties({}), null)
  })

  it('reports a properties column it did not write as corrupt, naming the row', () => {
    for (const json of [
      '{',
      '[]',
      '{"contentType":1}',
      '{"x":"y"}',
      '{"userProperties":{"a":2}}',
    ]) {
      assert.throws(() => decodeProperties(json, reader), {
        code: 'MQTT_STORE_CORRUPT',
        message: /^table messages \(id=7\): column properties/,
      })
    }
  })
})
