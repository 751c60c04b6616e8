import { ProtocolError } from '../../errors/protocol-error.js'
import { findInvalidUtf8 } from '../utf8.js'
import { LineCursor, lineError, locate } from './line-cursor.js'
import { scanName } from './parse-names.js'
import { parseFieldValue, parseTimestamp } from './parse-values.js'
import { ch, codePointName, exceedsUtf8Bytes, excerpt, findLoneSurrogate } from './text.js'
import {
  defaultLineParseOptions,
  type LineFieldValue,
  type LineParseOptions,
  type LinePoint,
} from './types.js'

// ignoreBOM keeps a BOM in the text so that both input kinds go through the same stripBom.
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const lenientDecoder = new TextDecoder('utf-8', { ignoreBOM: true })

/**
 * Parses InfluxDB line protocol (v2 reference, with the influxdata/line-protocol EBNF where the
 * prose is vague): `measurement[,tag=value…] field=value[,field=value…] [timestamp]`, one point
 * per line, `\n` or `\r\n` line ends, blank lines and `#` comment lines skipped. Every name is
 * returned unescaped; tags and fields keep their input order. The whole input is refused at the
 * first error, a `ProtocolError` whose message (and `details`) give the 1-based line and column.
 * It runs in time linear in the input and throws nothing else, whatever the input.
 *
 * @example
 * parseLineProtocol('weather,site=north\\ field temp=21.5,ok=true,n=3i 1556813561098000000')
 * // [{ measurement: 'weather', tags: [['site', 'north field']],
 * //    fields: [['temp', { type: 'float', value: 21.5 }], ['ok', { type: 'boolean', value: true }],
 * //             ['n', { type: 'integer', value: 3n }]],
 * //    timestamp: 1556813561098000000n }]
 */
export function parseLineProtocol(
  input: string | Uint8Array,
  options: LineParseOptions = {},
): LinePoint[] {
  const limits = resolveOptions(options)
  const text = decodeInput(input, limits.maxBytes)
  const lone = findLoneSurrogate(text)
  if (lone !== -1) {
    const what = `lone UTF-16 surrogate ${codePointName(text.charCodeAt(lone))} is not valid Unicode`
    throw lineError(text, lone, what, 'PROTOCOL_MALFORMED')
  }
  return parseLines(new LineCursor(text, limits))
}

function resolveOptions(options: LineParseOptions): Required<LineParseOptions> {
  const d = defaultLineParseOptions
  const limits = {
    maxBytes: options.maxBytes ?? d.maxBytes,
    maxLines: options.maxLines ?? d.maxLines,
    maxNameBytes: options.maxNameBytes ?? d.maxNameBytes,
    maxStringBytes: options.maxStringBytes ?? d.maxStringBytes,
  }
  for (const [name, value] of Object.entries(limits)) {
    // A limit of Infinity turns that check off; anything else must be a count.
    if (
      typeof value !== 'number' ||
      !(value >= 0 && (Number.isInteger(value) || value === Infinity))
    ) {
      throw new ProtocolError(
        'PROTOCOL_INVALID',
        `line protocol option ${name} must be a non-negative integer`,
      )
    }
  }
  return limits
}

function decodeInput(input: string | Uint8Array, maxBytes: number): string {
  if (typeof input === 'string') {
    if (exceedsUtf8Bytes(input, maxBytes)) throw tooLarge(maxBytes)
    return stripBom(input)
  }
  if (!(input instanceof Uint8Array)) {
    throw new ProtocolError(
      'PROTOCOL_INVALID',
      'line protocol input must be a string or a Uint8Array',
    )
  }
  if (input.byteLength > maxBytes) throw tooLarge(maxBytes)
  return stripBom(decodeUtf8(input))
}

function tooLarge(maxBytes: number): ProtocolError {
  return new ProtocolError(
    'PROTOCOL_TOO_LARGE',
    `line protocol input is larger than ${String(maxBytes)} bytes`,
    {
      hint: 'Split the points into smaller batches.',
      details: { maxBytes },
    },
  )
}

/** A leading byte order mark (as Windows editors write) is not part of the first measurement. */
function stripBom(text: string): string {
  return text.charCodeAt(0) === ch.bom ? text.slice(1) : text
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return fatalDecoder.decode(bytes)
  } catch (cause) {
    const byteOffset = findInvalidUtf8(bytes)
    // The bytes before the bad one are valid, so this prefix locates it by line and column.
    const prefix = stripBom(lenientDecoder.decode(bytes.subarray(0, byteOffset)))
    const { line, column } = locate(prefix, prefix.length)
    const bad = (bytes[byteOffset] ?? 0).toString(16).toUpperCase().padStart(2, '0')
    const where = `line ${String(line)}, column ${String(column)}`
    throw new ProtocolError(
      'PROTOCOL_MALFORMED',
      `${where}: invalid UTF-8 at byte offset ${String(byteOffset)} (byte 0x${bad})`,
      {
        hint: 'Encode line protocol as UTF-8.',
        details: { line, column, byteOffset },
        cause,
      },
    )
  }
}

function parseLines(cursor: LineCursor): LinePoint[] {
  const points: LinePoint[] = []
  while (cursor.pos < cursor.end) {
    // EBNF `line = { space_char } [ point | comment ]`; we also let tabs lead a line.
    while (cursor.at(cursor.pos) === ch.space || cursor.at(cursor.pos) === ch.tab) cursor.pos++
    if (cursor.at(cursor.pos) === ch.hash) skipComment(cursor)
    else if (cursor.isEolAt(cursor.pos)) cursor.consumeEol()
    else {
      const max = cursor.limits.maxLines
      if (points.length >= max) {
        cursor.fail(
          cursor.pos,
          `more than ${String(max)} points in one input`,
          'PROTOCOL_TOO_LARGE',
        )
      }
      points.push(parsePoint(cursor))
    }
  }
  return points
}

/** Spec, "Comments": everything from `#` to the next newline is ignored. */
function skipComment(cursor: LineCursor): void {
  const newline = cursor.input.indexOf('\n', cursor.pos)
  cursor.pos = newline === -1 ? cursor.end : newline + 1
}

function parsePoint(cursor: LineCursor): LinePoint {
  const start = cursor.pos
  const measurement = scanName(cursor, 'measurement')
  if (measurement === '')
    cursor.fail(start, `expected a measurement name, found ${cursor.describe(start)}`)
  const tags = parseTags(cursor)
  expectFieldSet(cursor)
  const fields = parseFields(cursor)
  const timestamp = parseTimestamp(cursor)
  cursor.skipSpaces()
  if (!cursor.isEolAt(cursor.pos)) {
    cursor.fail(
      cursor.pos,
      `unexpected ${cursor.describe(cursor.pos)} after the timestamp; expected end of line`,
    )
  }
  cursor.consumeEol()
  return timestamp === undefined
    ? { measurement, tags, fields }
    : { measurement, tags, fields, timestamp }
}

/** EBNF `{ "," tag }` with `tag = key "=" key`; spec: tag values cannot be empty. */
function parseTags(cursor: LineCursor): Array<readonly [string, string]> {
  const tags: Array<readonly [string, string]> = []
  const seen = new Set<string>()
  while (cursor.at(cursor.pos) === ch.comma) {
    cursor.pos++
    const keyStart = cursor.pos
    const key = scanName(cursor, 'tag key')
    if (key === '')
      cursor.fail(keyStart, `expected a tag key after ',', found ${cursor.describe(keyStart)}`)
    if (seen.has(key)) cursor.fail(keyStart, `duplicate tag key ${excerpt(key)}`)
    if (cursor.at(cursor.pos) !== ch.equals) {
      cursor.fail(
        cursor.pos,
        `expected '=' after tag key ${excerpt(key)}, found ${cursor.describe(cursor.pos)}`,
      )
    }
    cursor.pos++
    const valueStart = cursor.pos
    const value = scanName(cursor, 'tag value')
    if (value === '') {
      cursor.fail(
        valueStart,
        `expected a value for tag ${excerpt(key)}, found ${cursor.describe(valueStart)} (tag values cannot be empty; omit the tag instead)`,
      )
    }
    seen.add(key)
    tags.push([key, value])
  }
  return tags
}

/** Spec, "Whitespace": the first unescaped space separates measurement and tags from the fields. */
function expectFieldSet(cursor: LineCursor): void {
  const c = cursor.at(cursor.pos)
  if (c === ch.equals) cursor.fail(cursor.pos, `unexpected '=' in a tag value; escape it as \\=`)
  if (c !== ch.space) {
    cursor.fail(
      cursor.pos,
      `expected a space and then the field set (key=value), found ${cursor.describe(cursor.pos)}`,
    )
  }
  cursor.skipSpaces()
  if (cursor.isEolAt(cursor.pos)) {
    cursor.fail(
      cursor.pos,
      `expected the field set (key=value), found ${cursor.describe(cursor.pos)}; a point needs at least one field`,
    )
  }
}

function parseFields(cursor: LineCursor): Array<readonly [string, LineFieldValue]> {
  const fields: Array<readonly [string, LineFieldValue]> = []
  const seen = new Set<string>()
  for (;;) {
    const keyStart = cursor.pos
    const key = scanName(cursor, 'field key')
    if (key === '')
      cursor.fail(keyStart, `expected a field key, found ${cursor.describe(keyStart)}`)
    if (seen.has(key)) cursor.fail(keyStart, `duplicate field key ${excerpt(key)}`)
    if (cursor.at(cursor.pos) !== ch.equals) {
      cursor.fail(
        cursor.pos,
        `expected '=' after field key ${excerpt(key)}, found ${cursor.describe(cursor.pos)}`,
      )
    }
    cursor.pos++
    fields.push([key, parseFieldValue(cursor, key)])
    seen.add(key)
    if (cursor.at(cursor.pos) !== ch.comma) return fields
    cursor.pos++
  }
}
