import assert from 'node:assert/strict'
import { isUtf8 } from 'node:buffer'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet'
import { PacketDecodeError } from './packet-decode-error.js'
import { checkProperties, clientProperties } from './property-check.js'
import { userPropertiesFromRecord, type UserProperties } from '../message.js'
import { decodePublish } from './publish-decoder.js'
import { encodePublish } from './publish-encoder.js'
import type { PublishPacket, PublishProperties as OurProperties } from './publish-packet.js'

type Version = 3 | 4 | 5
type PublishProperties = NonNullable<IPublishPacket['properties']>

const text = fc.string({ unit: 'grapheme', maxLength: 12 })
const nonEmptyText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))

/** User Properties as mqtt-packet's parser returns them: a null-prototype object. */
const userProperties = fc
  .uniqueArray(
    fc.tuple(
      nonEmptyText,
      fc.oneof(nonEmptyText, fc.array(nonEmptyText, { minLength: 2, maxLength: 3 })),
    ),
    { minLength: 1, maxLength: 3, selector: ([name]) => name },
  )
  .map((entries) => Object.assign(Object.create(null) as object, Object.fromEntries(entries)))

/** Every property a client's PUBLISH may carry, each present or not, keys in a random order. */
const properties: fc.Arbitrary<PublishProperties | undefined> = fc
  .record(
    {
      payloadFormatIndicator: fc.boolean(),
      messageExpiryInterval: fc.integer({ min: 0, max: 0xffff_ffff }),
      contentType: text,
      responseTopic: text,
      correlationData: bytes,
      topicAlias: fc.integer({ min: 1, max: 0xffff }),
      userProperties,
    },
    { requiredKeys: [] },
  )
  .chain((record) => fc.shuffledSubarray(Object.entries(record), { minLength: 0 }))
  .map((entries) => (entries.length === 0 ? undefined : Object.fromEntries(entries)))

const publish: fc.Arbitrary<{ packet: IPublishPacket; version: Version }> = fc
  .record({
    version: fc.constantFrom<Version>(3, 4, 5),
    topic: text,
    payload: bytes,
    qos: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
    messageId: fc.integer({ min: 1, max: 0xffff }),
    dup: fc.boolean(),
    retain: fc.boolean(),
    properties,
  })
  .map(({ version, messageId, properties: props, ...fields }) => {
    const packet: IPublishPacket = { cmd: 'publish', ...fields }
    if (fields.qos > 0) packet.messageId = messageId
    if (version === 5 && props !== undefined) packet.properties = props
    return { packet, version }
  })

const generate = (packet: Packet, version: Version): Buffer =>
  mqttPacket.generate(packet, { protocolVersion: version })

/**
 * mqtt-packet's PUBLISH in our shape: User Properties as pairs, in the order mqtt-packet writes
 * them (the object's key order, each name's values in order); other properties keep their place.
 */
function ours(packet: IPublishPacket): PublishPacket {
  const { properties, ...rest } = packet
  if (properties === undefined) return rest
  const entries = Object.entries(properties).map(([key, value]) =>
    key === 'userProperties'
      ? [key, userPropertiesFromRecord(value as Record<string, string | string[]>)]
      : [key, value],
  )
  return { ...rest, properties: Object.fromEntries(entries) as OurProperties }
}

/** Pairs keyed by name as mqtt-packet's parser keys them, to compare with what it read. */
function byName(pairs: UserProperties | undefined): object | undefined {
  if (pairs === undefined) return undefined
  const record = Object.create(null) as Record<string, string | string[]>
  for (const [name, value] of pairs) {
    const previous = record[name]
    if (previous === undefined) record[name] = value
    else if (Array.isArray(previous)) previous.push(value)
    else record[name] = [previous, value]
  }
  return record
}

/** What mqtt-packet's parser makes of a frame, or undefined when it refuses it. */
function parseWithMqttPacket(frame: Buffer, version: Version): Packet | undefined {
  const parser = mqttPacket.parser({ protocolVersion: version })
  const seen: { packet?: Packet & { length?: number }; failed: boolean } = { failed: false }
  parser.on('packet', (p: Packet) => (seen.packet = p))
  parser.on('error', () => (seen.failed = true))
  try {
    parser.parse(frame)
  } catch {
    return undefined
  }
  if (seen.failed || seen.packet === undefined) return undefined
  const { length: _length, ...rest } = seen.packet
  return rest
}

/** The checks the mqtt-packet path added on the raw bytes: a UTF-8 topic, allowed properties. */
function rawChecksPass(frame: Buffer, packet: IPublishPacket, version: Version): boolean {
  try {
    let at = 1
    while (((frame[at] ?? 0) & 0x80) !== 0) at++
    at++
    const topicEnd = at + 2 + frame.readUInt16BE(at)
    if (!isUtf8(frame.subarray(at + 2, topicEnd))) return false
    if (version !== 5) return true
    const properties = topicEnd + (packet.qos > 0 ? 2 : 0)
    return !('error' in checkProperties(frame, properties, clientProperties.publish))
  } catch {
    return false // a length that overruns the frame
  }
}

/** The packet the broker decoded before decodePublish: mqtt-packet, then the raw checks. */
function decodeTheOldWay(frame: Buffer, version: Version): IPublishPacket | undefined {
  const packet = parseWithMqttPacket(frame, version)
  if (packet?.cmd !== 'publish' || !rawChecksPass(frame, packet, version)) return undefined
  return packet
}

function decodes(frame: Buffer, version: Version): PublishPacket | undefined {
  try {
    return decodePublish(frame, version)
  } catch (err) {
    assert.ok(err instanceof PacketDecodeError, String(err))
    return undefined
  }
}

describe('encodePublish', () => {
  it('writes the bytes mqtt-packet generates, for 3.1, 3.1.1 and 5', () => {
    fc.assert(
      fc.property(publish, ({ packet, version }) => {
        assert.deepEqual(encodePublish(ours(packet), version), generate(packet, version))
      }),
      { numRuns: 2000 },
    )
  })

  it('writes Subscription Identifiers, one or several, as mqtt-packet does', () => {
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: 'a/b',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 9,
      dup: false,
      retain: true,
      properties: { subscriptionIdentifier: [1, 300, 268_435_455], topicAlias: 2 },
    }
    assert.deepEqual(encodePublish(ours(packet), 5), generate(packet, 5))
    packet.properties = { subscriptionIdentifier: 16_384 }
    assert.deepEqual(encodePublish(ours(packet), 5), generate(packet, 5))
  })

  it('writes a 2 MB payload behind a four-byte remaining length', () => {
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: 't',
      payload: Buffer.alloc(2_100_000, 7),
      qos: 0,
      dup: false,
      retain: false,
    }
    assert.deepEqual(encodePublish(ours(packet), 4), generate(packet, 4))
  })

  it('writes User Properties in the order of the list [MQTT-3.3.2-18]', () => {
    const packet: PublishPacket = {
      cmd: 'publish',
      topic: 't',
      payload: Buffer.alloc(0),
      qos: 0,
      dup: false,
      retain: false,
      properties: {
        userProperties: [
          ['b', '1'],
          ['10', 'x'],
          ['b', '2'],
          ['2', 'y'],
        ],
      },
    }
    assert.equal(
      encodePublish(packet, 5).toString('hex'),
      '3021000174' +
        '1d' +
        '260001620001' +
        '31' +
        '26000231300001' +
        '78' +
        '260001620001' +
        '32' +
        '260001320001' +
        '79',
    )
  })
})

describe('decodePublish', () => {
  it('reads back every packet mqtt-packet generates', () => {
    fc.assert(
      fc.property(publish, ({ packet, version }) => {
        assert.deepEqual(decodePublish(generate(packet, version), version), ours(packet))
      }),
      { numRuns: 2000 },
    )
  })

  it('reads what mqtt-packet parses', () => {
    fc.assert(
      fc.property(publish, ({ packet, version }) => {
        const frame = generate(packet, version)
        const theirs = parseWithMqttPacket(frame, version)
        assert.ok(theirs?.cmd === 'publish')
        assert.deepEqual(decodePublish(frame, version), ours(theirs))
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses exactly what mqtt-packet and the raw checks refused, on corrupted frames', () => {
    const corrupted = fc
      .tuple(
        publish,
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
      )
      .map(([{ packet, version }, edits]) => {
        const frame = Buffer.from(generate(packet, version))
        let body = 1
        while (((frame[body] ?? 0) & 0x80) !== 0) body++
        body++
        // Flags and body bytes change; the remaining length stays right (FrameReader checks it).
        for (const [at, value] of edits) {
          const i = at % (frame.length - body + 1)
          if (i === 0) frame[0] = 0x30 | (value & 0x0f)
          else frame[body + i - 1] = value
        }
        return { frame, version }
      })
    fc.assert(
      fc.property(corrupted, ({ frame, version }) => {
        const before = decodeTheOldWay(frame, version)
        const now = decodes(frame, version)
        if (now === undefined) {
          // The one difference: mqtt-packet read a missing packet identifier as -1 and the broker
          // acknowledged it; the packet is malformed [MQTT-2.2.1-3].
          if (before !== undefined) assert.equal(before.messageId, -1)
          return
        }
        assert.ok(before !== undefined, 'the old path refused it')
        const { userProperties: pairs, ...rest } = now.properties ?? {}
        const { userProperties: theirs, ...theirRest } = before.properties ?? {}
        assert.deepEqual({ ...now, properties: rest }, { ...before, properties: theirRest })
        // mqtt-packet keys them by name, losing the order among names, and drops an empty first
        // value of a repeated User Property; we keep both.
        if (!JSON.stringify(pairs ?? []).includes('""')) assert.deepEqual(byName(pairs), theirs)
      }),
      { numRuns: 5000 },
    )
  })

  it('refuses a QoS 1 PUBLISH without a whole packet identifier (mqtt-packet read it as -1)', () => {
    for (const hex of ['32 03 00 01 74', '32 04 00 01 74 00']) {
      const frame = Buffer.from(hex.replace(/ /g, ''), 'hex')
      assert.throws(() => decodePublish(frame, 4), PacketDecodeError)
    }
  })

  it('keeps every value of a repeated User Property, an empty one too (MQTT 5 §3.3.2.3.7)', () => {
    const frame = Buffer.from(
      '30 11 00 01 74 0d 26 00 01 6b 00 00 26 00 01 6b 00 01 76'.replace(/ /g, ''),
      'hex',
    )
    assert.deepEqual(decodePublish(frame, 5).properties?.userProperties, [
      ['k', ''],
      ['k', 'v'],
    ])
  })

  it('keeps User Properties in the order sent, integer-like names too [MQTT-3.3.2-18]', () => {
    // a=1, 10=x, a=3, 2=y: an object keyed by name would give 2, 10, a (1, 3).
    const frame = Buffer.from(
      '30 21 00 01 74 1d 26 00 01 61 00 01 31 26 00 02 31 30 00 01 78 26 00 01 61 00 01 33 26 00 01 32 00 01 79'.replace(
        / /g,
        '',
      ),
      'hex',
    )
    assert.deepEqual(decodePublish(frame, 5).properties?.userProperties, [
      ['a', '1'],
      ['10', 'x'],
      ['a', '3'],
      ['2', 'y'],
    ])
  })

  const refused: [string, Version, string][] = [
    ['both QoS bits set [MQTT-3.3.1-4]', 4, '36 05 00 01 74 00 07'],
    ['a topic length past the end', 4, '30 03 00 05 74'],
    ['a one-byte topic length', 4, '30 01 00'],
    ['an empty packet', 4, '30 00'],
    ['an overlong encoding in the topic [MQTT-1.5.4-1]', 4, '30 04 00 02 c0 80'],
    ['a UTF-16 surrogate in the topic [MQTT-1.5.4-1]', 4, '30 05 00 03 ed a0 80'],
    ['a truncated sequence in the topic [MQTT-1.5.4-1]', 5, '30 04 00 01 e2 00'],
    ['no property length on 5', 5, '30 03 00 01 74'],
    ['a property length past the end', 5, '30 05 00 01 74 05 01'],
    ['a five-byte property length', 5, '30 08 00 01 74 80 80 80 80 00'],
    ['property identifier 0', 5, '30 06 00 01 74 02 00 00'],
    [
      'Server Reference, which a PUBLISH may not carry [MQTT-2.2.2-2]',
      5,
      '30 08 00 01 74 04 1c 00 01 61',
    ],
    ['a Subscription Identifier from a client [MQTT-3.3.4-6]', 5, '30 06 00 01 74 02 0b 01'],
    ['a repeated Message Expiry Interval', 5, '30 0e 00 01 74 0a 02 00 00 00 01 02 00 00 00 02'],
    ['a Topic Alias cut by the property length', 5, '30 07 00 01 74 02 23 00 01'],
    ['a Content Type that is not UTF-8', 5, '30 08 00 01 74 04 03 00 01 ff'],
    ['a User Property name that is not UTF-8', 5, '30 0b 00 01 74 07 26 00 01 ff 00 01 61'],
    ['a User Property value that is not UTF-8', 5, '30 0b 00 01 74 07 26 00 01 61 00 01 c0'],
  ]
  for (const [what, version, hex] of refused) {
    it(`refuses ${what}`, () => {
      const frame = Buffer.from(hex.replace(/ /g, ''), 'hex')
      assert.equal(frame[1], frame.length - 2, 'the case has its remaining length right')
      assert.throws(() => decodePublish(frame, version), PacketDecodeError)
      assert.equal(decodeTheOldWay(frame, version), undefined)
    })
  }
})
