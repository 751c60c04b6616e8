import type { LineCursor } from './line-cursor.js'
import { ch, codePointName, exceedsUtf8Bytes, isControl } from './text.js'

/** The four name elements of a line; they differ only in which characters can be escaped. */
export type NameKind = 'measurement' | 'tag key' | 'tag value' | 'field key'

/**
 * Spec, "Special characters": a measurement escapes comma and space; tag keys, tag values and
 * field keys escape comma, equals sign and space. These are also the characters that end them.
 */
function isMeasurementSpecial(c: number): boolean {
  return c === ch.comma || c === ch.space
}

function isKeySpecial(c: number): boolean {
  return c === ch.comma || c === ch.space || c === ch.equals
}

/**
 * Reads one name from `cursor.pos` up to (not including) its first unescaped delimiter or the
 * line end, and returns it unescaped; it may be empty, which the caller reports in context.
 *
 * A backslash escapes only the element's special characters; before anything else (another
 * backslash included) it is a literal backslash, as in the reference parsers (the escape codes
 * of InfluxDB `models/points.go`, influxdata/line-protocol `takeEsc`). So `a\\,b` reads as
 * `a\,b`. A consequence is that no name can end in a backslash: it would escape the delimiter
 * after it. Control characters are refused even after a backslash (EBNF `key_escape_seq`).
 */
export function scanName(cursor: LineCursor, kind: NameKind): string {
  const { input } = cursor
  const isSpecial = kind === 'measurement' ? isMeasurementSpecial : isKeySpecial
  const start = cursor.pos
  let i = start
  let segment = start
  let name = ''
  for (;;) {
    const c = cursor.at(i)
    if (c === ch.backslash) {
      if (isSpecial(cursor.at(i + 1))) {
        name += input.slice(segment, i)
        segment = i + 1
        i += 2
      } else i++
      continue
    }
    if (c === -1 || isSpecial(c) || cursor.isEolAt(i)) break
    if (isControl(c)) {
      cursor.fail(
        i,
        `${kind} contains control character ${codePointName(c)}, which line protocol does not allow in names`,
      )
    }
    i++
  }
  name += input.slice(segment, i)
  cursor.pos = i
  const max = cursor.limits.maxNameBytes
  if (exceedsUtf8Bytes(name, max)) {
    cursor.fail(start, `${kind} is longer than ${String(max)} bytes`, 'PROTOCOL_TOO_LARGE')
  }
  return name
}
