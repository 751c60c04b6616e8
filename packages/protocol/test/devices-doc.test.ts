import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import mqttPacket, { type Packet } from 'mqtt-packet'
import {
  authorizePublish,
  authorizeSubscribe,
  decodeDeviceMessage,
  decodeDocument,
  decodeTelemetry,
  encodeCbor,
  encodeSignedManifestCbor,
  encodeSignedManifestJson,
  encodeTelemetry,
  generateSigningKey,
  parseTopicName,
  signManifest,
  type CborValue,
  type UpKind,
} from '@strata/protocol'

// docs/devices.md gives device authors byte budgets and CBOR bytes: every number in its budget
// table and every CBOR example is computed here with the protocol's own codecs and mqtt-packet.
const doc = readFileSync(new URL('../../../docs/devices.md', import.meta.url), 'utf8')

const deviceId = 'pump-0007'
const base = `strata/v1/devices/${deviceId}`
/** The shape of a device token (`sdt_<16 hex>_<43 base64url>`), 64 characters. */
const token = `sdt_0123456789abcdef_${'A'.repeat(43)}`
const sessionExpiryS = 86_400
const utf8 = new TextEncoder()

/** The seven cloud topics a device subscribes to (§3 of docs/protocol.md). */
const cloudTopics = [
  'twin/desired',
  'twin/document',
  'twin/rejected',
  'commands/request/+',
  'firmware/offer',
  'errors',
  'certificate/response',
]

// The examples, as a device would send or receive them. Telemetry timestamps travel as float64
// (what encodeTelemetry writes); see the note on `ts` in docs/devices.md.
const t0 = 1_764_057_600_000
const oneValue = { temp: 21.5 }
const threeValues = { temp: 21.5, door: false, mode: 'eco' }
const eightValues = {
  temp: 21.5,
  pressure: 2.25,
  flow: 12.75,
  rpm: 1450,
  current: 3.5,
  voltage: 230,
  running: true,
  mode: 'eco',
}
const record = { ts: t0, values: oneValue }
const batch = Array.from({ length: 10 }, (_, i) => ({ ts: t0 + i * 60_000, values: oneValue }))
const twinPatch = { firmware: '2.1.0', config: { interval: 60, legacy: null } }
const twinDelta = { version: 8, desired: { config: { interval: 30 } } }
const commandRequest = { id: 'c-42', params: { delayS: 5 }, expiresAt: t0 + 300_000 }
const commandResponse = { status: 'succeeded', result: { uptimeS: 12 } }
const progress = { offerId: 'o-7', version: '2.1.0', state: 'downloading', percent: 40 }
const refusal = {
  code: 'PROTOCOL_INVALID',
  message: '/values/temp must be number, integer, boolean or string',
}
const errorsMessage = { topic: `${base}/telemetry/cbor`, error: refusal, ts: t0 }
/** MQTT 5 request/response: the response topic and correlation data the command carries. */
const responseTopic = `${base}/commands/response/c-42`
const correlationData = Buffer.from('c-42')

const telemetryCbor = (records: Parameters<typeof encodeTelemetry>[0]) =>
  encodeTelemetry(records, 'cbor')
const telemetryJson = (records: Parameters<typeof encodeTelemetry>[0]) =>
  encodeTelemetry(records, 'json')
const docCbor = (value: unknown) => encodeCbor(value as CborValue, { numbers: 'auto' })
const docJson = (value: unknown) => utf8.encode(JSON.stringify(value))

type From = 'device' | 'cloud' | 'either'
interface Budget {
  readonly name: string
  readonly from: From
  /** Below `strata/v1/devices/pump-0007/`, or a description for packets without a topic. */
  readonly topic: string
  readonly payload?: Uint8Array
  /** The packet for 3.1.1 and for 5; `undefined` where that version has no such packet. */
  readonly v311: Packet | undefined
  readonly v5: Packet | undefined
}

const publish = (
  topic: string,
  payload: Uint8Array,
  properties?: Record<string, unknown>,
): Packet => ({
  cmd: 'publish',
  topic: `${base}/${topic}`,
  payload: Buffer.from(payload),
  qos: 1,
  messageId: 1,
  retain: false,
  dup: false,
  ...(properties === undefined ? {} : { properties }),
})

const both = (
  name: string,
  from: From,
  topic: string,
  payload: Uint8Array,
  v5Properties?: Record<string, unknown>,
): Budget => ({
  name,
  from,
  topic,
  payload,
  v311: publish(topic, payload),
  v5: publish(topic, payload, v5Properties),
})

const connect = (version: 4 | 5, withToken: boolean): Packet => ({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: version,
  clientId: deviceId,
  clean: false,
  keepalive: 60,
  ...(withToken ? { username: deviceId, password: Buffer.from(token) } : {}),
  ...(version === 5 ? { properties: { sessionExpiryInterval: sessionExpiryS } } : {}),
})

const subscribe: Packet = {
  cmd: 'subscribe',
  messageId: 1,
  subscriptions: cloudTopics.map((t) => ({ topic: `${base}/${t}`, qos: 1 as const })),
}

/** What packages/mqtt's CONNECT handler answers with its default limits. */
const connack = (version: 4 | 5): Packet =>
  version === 4
    ? { cmd: 'connack', returnCode: 0, sessionPresent: false }
    : {
        cmd: 'connack',
        reasonCode: 0,
        sessionPresent: false,
        properties: {
          receiveMaximum: 1000,
          maximumPacketSize: 1_048_576,
          topicAliasMaximum: 64,
          wildcardSubscriptionAvailable: true,
          subscriptionIdentifiersAvailable: true,
          sharedSubscriptionAvailable: true,
        },
      }

const budgets: Budget[] = [
  {
    name: 'CONNECT with a token',
    from: 'device',
    topic: '—',
    v311: connect(4, true),
    v5: connect(5, true),
  },
  {
    name: 'CONNECT with a certificate',
    from: 'device',
    topic: '—',
    v311: connect(4, false),
    v5: connect(5, false),
  },
  { name: 'CONNACK', from: 'cloud', topic: '—', v311: connack(4), v5: connack(5) },
  {
    name: 'SUBSCRIBE, 7 filters',
    from: 'device',
    topic: 'the 7 cloud topics',
    v311: subscribe,
    v5: subscribe,
  },
  {
    name: 'SUBACK',
    from: 'cloud',
    topic: '—',
    v311: { cmd: 'suback', messageId: 1, granted: cloudTopics.map(() => 1) },
    v5: { cmd: 'suback', messageId: 1, granted: cloudTopics.map(() => 1) },
  },
  both(
    'telemetry, 1 value, CBOR',
    'device',
    'telemetry/cbor',
    telemetryCbor([{ values: oneValue }]),
  ),
  both('telemetry, 1 value, JSON', 'device', 'telemetry', telemetryJson([{ values: oneValue }])),
  both(
    'telemetry, 3 values, CBOR',
    'device',
    'telemetry/cbor',
    telemetryCbor([{ values: threeValues }]),
  ),
  both(
    'telemetry, 3 values, JSON',
    'device',
    'telemetry',
    telemetryJson([{ values: threeValues }]),
  ),
  both(
    'telemetry, 8 values, CBOR',
    'device',
    'telemetry/cbor',
    telemetryCbor([{ values: eightValues }]),
  ),
  both(
    'telemetry, 8 values, JSON',
    'device',
    'telemetry',
    telemetryJson([{ values: eightValues }]),
  ),
  both('timestamped record, CBOR', 'device', 'telemetry/cbor', telemetryCbor([record])),
  both('timestamped record, JSON', 'device', 'telemetry', telemetryJson([record])),
  both('batch of 10 records, CBOR', 'device', 'telemetry/cbor', telemetryCbor(batch)),
  both('batch of 10 records, JSON', 'device', 'telemetry', telemetryJson(batch)),
  both('twin reported patch, CBOR', 'device', 'twin/reported/cbor', docCbor(twinPatch)),
  both('twin reported patch, JSON', 'device', 'twin/reported', docJson(twinPatch)),
  both('twin get', 'device', 'twin/get', new Uint8Array()),
  both('twin desired delta', 'cloud', 'twin/desired', docJson(twinDelta)),
  both('command request', 'cloud', 'commands/request/reboot', docJson(commandRequest), {
    responseTopic,
    correlationData,
  }),
  both('command response, CBOR', 'device', 'commands/response/c-42/cbor', docCbor(commandResponse)),
  {
    name: 'command response, JSON, to the response topic',
    from: 'device',
    topic: 'commands/response/c-42',
    payload: docJson(commandResponse),
    v311: undefined,
    v5: publish('commands/response/c-42', docJson(commandResponse), { correlationData }),
  },
  both('firmware progress, CBOR', 'device', 'firmware/progress/cbor', docCbor(progress)),
  both('firmware progress, JSON', 'device', 'firmware/progress', docJson(progress)),
  both('errors message', 'cloud', 'errors', docJson(errorsMessage)),
  {
    name: 'PUBACK',
    from: 'either',
    topic: '—',
    v311: { cmd: 'puback', messageId: 1 },
    v5: { cmd: 'puback', messageId: 1 },
  },
  {
    name: 'PUBACK refusing a message',
    from: 'cloud',
    topic: '—',
    v311: undefined,
    v5: {
      cmd: 'puback',
      messageId: 1,
      reasonCode: 0x99,
      properties: { reasonString: `${refusal.code}: ${refusal.message}` },
    },
  },
  {
    name: 'PINGREQ or PINGRESP',
    from: 'either',
    topic: '—',
    v311: { cmd: 'pingreq' },
    v5: { cmd: 'pingreq' },
  },
]

const bytes = (packet: Packet | undefined, version: 4 | 5): string =>
  packet === undefined
    ? '—'
    : String(mqttPacket.generate(packet, { protocolVersion: version }).length)

const expectedRows = budgets.map((b) => [
  b.name,
  b.from,
  b.topic === '—' || b.topic.startsWith('the ') ? b.topic : `\`${b.topic}\``,
  b.payload === undefined ? '—' : String(b.payload.length),
  bytes(b.v311, 4),
  bytes(b.v5, 5),
])

/** The rows of a Markdown table between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
function tableRows(name: string): string[][] {
  const table = new RegExp(`<!-- ${name}:start -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(doc)?.[1]
  assert.ok(table !== undefined, `docs/devices.md has no ${name} table`)
  return table
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s:|-]+\|$/.test(line))
    .slice(1) // the header
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    )
}

/** Fenced blocks in order, those inside list items too: info string and unindented body. */
const fences = [...doc.matchAll(/^( *)```([^\n]*)\n([\s\S]*?)^\1```/gm)].map((m) => ({
  info: m[2] ?? '',
  body: (m[3] ?? '').replace(new RegExp(`^${m[1] ?? ''}`, 'gm'), ''),
}))

/** Reads annotated hex (`a1                 map(1)`): hex groups, then two spaces and a note. */
function parseHex(body: string): Uint8Array {
  const hex = body
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/)[0] ?? '')
    .filter((part) => part !== '')
  for (const part of hex) assert.match(part, /^[0-9a-f]+( [0-9a-f]+)*$/, `not hex: ${part}`)
  return Buffer.from(hex.join('').replaceAll(' ', ''), 'hex')
}

describe('docs/devices.md', () => {
  it('gives the byte budget the codecs and mqtt-packet produce', () => {
    const markdown = expectedRows.map((r) => `| ${r.join(' | ')} |`).join('\n')
    assert.deepEqual(tableRows('byte-budget'), expectedRows, `expected rows:\n${markdown}`)
  })

  it('budgets payloads the cloud accepts on topics a device may use', () => {
    const identity = { kind: 'device', deviceId } as const
    for (const b of budgets.filter((x) => x.from === 'device' && x.payload !== undefined)) {
      const topic = `${base}/${b.topic}`
      const decision = authorizePublish(identity, topic)
      assert.ok(decision.allowed, `${b.name}: may not publish to ${topic}`)
      const parsed = parseTopicName(topic)
      assert.ok(parsed !== undefined, topic)
      assert.doesNotThrow(
        () => decodeDeviceMessage(parsed.kind, parsed.format, b.payload ?? new Uint8Array()),
        b.name,
      )
    }
    for (const t of cloudTopics) {
      assert.ok(authorizeSubscribe(identity, `${base}/${t}`).allowed, t)
    }
    assert.equal(token.length, 64)
  })

  it('shows CBOR that decodes to the JSON beside it, in the bytes the codecs write', () => {
    let checked = 0
    fences.forEach((fence, i) => {
      const kind = /^text strata:cbor=([a-z.]+)( indefinite)?$/.exec(fence.info)
      if (kind === null) return
      const next = fences[i + 1]
      assert.ok(next?.info === 'json', `CBOR example ${String(i)} is not followed by its JSON`)
      const cbor = parseHex(fence.body)
      const json = utf8.encode(next.body)
      const upKind = kind[1] as UpKind
      const indefinite = kind[2] !== undefined
      if (upKind === 'telemetry') {
        assert.deepEqual(decodeTelemetry(cbor, 'cbor'), decodeTelemetry(json, 'json'))
        if (!indefinite) {
          const canonical = encodeTelemetry(decodeTelemetry(json, 'json'), 'cbor')
          assert.equal(Buffer.from(cbor).toString('hex'), Buffer.from(canonical).toString('hex'))
        }
      } else {
        assert.deepEqual(decodeDocument(cbor, 'cbor'), decodeDocument(json, 'json'))
        assert.doesNotThrow(() => decodeDeviceMessage(upKind, 'cbor', cbor))
        if (!indefinite) {
          const canonical = docCbor(JSON.parse(next.body))
          assert.equal(Buffer.from(cbor).toString('hex'), Buffer.from(canonical).toString('hex'))
        }
      }
      if (indefinite) assert.ok(cbor[0] === 0xbf || cbor[0] === 0x9f, 'not indefinite-length')
      checked++
    })
    assert.ok(checked >= 8, `only ${String(checked)} CBOR examples found`)
  })

  it('states the sizes it derives from the codecs', () => {
    // A firmware offer carries a signed manifest envelope; its size with one signature.
    const signed = signManifest(
      {
        schemaVersion: 1,
        product: 'acme-pump',
        version: '2.1.0',
        securityVersion: 3,
        hardware: ['acme-pump-rev-b'],
        image: { sha256: 'ab'.repeat(32), size: 917_504 },
        issuedAt: t0,
      },
      [generateSigningKey()],
    )
    const envelopeCbor = encodeSignedManifestCbor(signed).length
    const envelopeJson = utf8.encode(encodeSignedManifestJson(signed)).length
    assert.match(
      doc,
      new RegExp(
        `signed manifest envelope with one signature is ${String(envelopeCbor)} bytes in CBOR and ${String(envelopeJson)} in JSON`,
      ),
    )
    // The offline buffer: 1,000 one-value records as one CBOR batch.
    const thousand = Array.from({ length: 1000 }, (_, i) => ({
      ts: t0 + i * 60_000,
      values: oneValue,
    }))
    const size = telemetryCbor(thousand).length
    assert.match(doc, new RegExp(`1,000 such records are ${size.toLocaleString('en-US')} bytes`))
    assert.match(
      doc,
      new RegExp(
        `\\{"temp": 21\\.5\\}\` is ${String(telemetryCbor([{ values: oneValue }]).length)} bytes`,
      ),
    )
    assert.ok(doc.includes(`\`${base}/\` (${String(base.length + 1)} bytes)`))
  })

  it('sizes the Zephyr buffers from the packets', () => {
    const length = (b: Budget) => mqttPacket.generate(b.v5!, { protocolVersion: 5 }).length
    const find = (name: string) => budgets.find((b) => b.name === name)!
    const request = find('command request')
    const header = length(request) - (request.payload?.length ?? 0)
    assert.match(
      doc,
      new RegExp(`a command request on 5 is ${String(header)} bytes without\\s+its payload`),
    )
    const subscribeBytes = length(find('SUBSCRIBE, 7 filters'))
    assert.match(doc, new RegExp(`SUBSCRIBE needs ${String(subscribeBytes)} bytes on MQTT 5`))
  })
})
