import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  decodeDeviceMessage,
  defaultTopicLimits,
  documentLimits,
  encodeTelemetry,
  telemetryLimits,
  topicTemplates,
  type UpKind,
} from '@strata/protocol'

// docs/protocol.md is the contract device authors build against: these tests keep it true.
const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')
const thousands = (n: number) => n.toLocaleString('en-US')

describe('docs/protocol.md', () => {
  it('lists exactly the topics of the device namespace, with direction and formats', () => {
    const table =
      /<!-- topic-table:start -->([\s\S]*?)<!-- topic-table:end -->/.exec(doc)?.[1] ?? ''
    const rows = [
      ...table.matchAll(/^\| `([^`]+)`\s*\| (device|cloud)\s*\| ([a-z, ]*?)\s*\|/gm),
    ].map((m) => ({
      levels: m[1],
      direction: m[2] === 'device' ? 'up' : 'down',
      formats: (m[3] ?? '')
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
        .join(','),
    }))
    const code = topicTemplates
      .filter((t) => t.namespace === 'devices')
      .map((t) => ({
        levels: t.levels.join('/'),
        direction: t.direction,
        formats: t.formats.join(','),
      }))
    assert.deepEqual(rows, code)
  })

  it('gives examples the decoder accepts', () => {
    const examples = [...doc.matchAll(/```(json|text) strata:([a-z.-]+)\n([\s\S]*?)```/g)]
    assert.ok(examples.length >= 7, `only ${String(examples.length)} examples found`)
    for (const [, , kind = '', body = ''] of examples) {
      // Examples inside list items are indented; the payload is the same without the indent.
      const payload = new TextEncoder().encode(body.replace(/^ {2,}/gm, ''))
      const [topicKind, format] =
        kind === 'telemetry-lp'
          ? (['telemetry', 'lp'] as const)
          : ([kind as UpKind, 'json'] as const)
      assert.doesNotThrow(
        () => decodeDeviceMessage(topicKind, format, payload),
        `${kind} example:\n${body}`,
      )
    }
  })

  it('shows the CBOR encoding the codec produces', () => {
    const hex = Buffer.from(encodeTelemetry([{ values: { temp: 21.5 } }], 'cbor')).toString('hex')
    assert.equal(hex, 'a16474656d70f94d60')
    assert.match(doc, /`\{"temp": 21\.5\}` is 9 bytes/)
    assert.match(
      doc,
      /a1 {17}map\(1\)\n {3}64 74656d70 {5}text\(4\) "temp"\n {3}f9 4d60 {9}float16 21\.5/,
    )
  })

  it('states the limits the code enforces', () => {
    const limits = /## 7\. Limits([\s\S]*?)## 8/.exec(doc)?.[1] ?? ''
    assert.match(
      limits,
      new RegExp(
        `topic\\s*\\|\\s*${String(defaultTopicLimits.maxTopicBytes)} bytes, ${String(defaultTopicLimits.maxTopicLevels)} levels`,
      ),
    )
    assert.match(
      limits,
      new RegExp(`telemetry payload\\s*\\|\\s*${String(telemetryLimits.maxBytes / 1024)} KiB`),
    )
    assert.match(
      limits,
      new RegExp(
        `records per telemetry message\\s*\\|\\s*${thousands(telemetryLimits.maxRecords)}`,
      ),
    )
    assert.match(
      limits,
      new RegExp(`values per record\\s*\\|\\s*${thousands(telemetryLimits.maxValuesPerRecord)}`),
    )
    assert.match(
      limits,
      new RegExp(`string value\\s*\\|\\s*${thousands(telemetryLimits.maxStringLength)} characters`),
    )
    assert.match(
      limits,
      new RegExp(
        `${String(telemetryLimits.maxTags)}, ${String(telemetryLimits.maxTagValueLength)} characters`,
      ),
    )
    assert.match(
      limits,
      new RegExp(`telemetry nesting\\s*\\|\\s*${String(telemetryLimits.maxDepth)} levels`),
    )
    assert.match(
      limits,
      new RegExp(
        `payloads\\s*\\|\\s*${String(documentLimits.maxBytes / 1024)} KiB, ${String(documentLimits.maxDepth)} levels`,
      ),
    )
  })
})
