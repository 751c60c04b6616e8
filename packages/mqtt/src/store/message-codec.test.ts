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

  it('stores User Properties as an ordered list of pairs [MQTT-3.3.2-18]', () => {
    const userProperties = [
      ['a', '1'],
      ['10', 'x'],
      ['a', '3'],
    ] as const
    const json = encodeProperties({ userProperties })
    assert.equal(json, '{"userPropertyList":[["a","1"],["10","x"],["a","3"]]}')
    assert.deepEqual(decodeProperties(json, reader), { userProperties })
  })

  it('reads User Properties that older stores kept keyed by name', () => {
    const json = '{"contentType":"text/plain","userProperties":{"b":"1","a":["2","3"],"10":"x"}}'
    assert.deepEqual(decodeProperties(json, reader), {
      contentType: 'text/plain',
      // The order among names was lost when they were written; JSON.parse puts "10" first.
      userProperties: [
        ['10', 'x'],
        ['b', '1'],
        ['a', '2'],
        ['a', '3'],
      ],
    })
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
      '{"userPropertyList":{"a":"1"}}',
      '{"userPropertyList":[["a"]]}',
      '{"userPropertyList":[["a",1]]}',
      '{"userPropertyList":[],"userProperties":{}}',
    ]) {
      assert.throws(() => decodeProperties(json, reader), {
        code: 'MQTT_STORE_CORRUPT',
        message: /^table messages \(id=7\): column properties/,
      })
    }
  })
})
