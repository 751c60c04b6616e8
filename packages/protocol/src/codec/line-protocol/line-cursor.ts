import { ProtocolError, type ProtocolErrorCode } from '../../errors/protocol-error.js'
import type { LineParseOptions } from './types.js'
import { ch, codePointName, isControl } from './text.js'

const syntaxHint =
  'See the line protocol reference: https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/'

/** Where a position falls, 1-based; the column counts code points from the start of its line. */
export interface LinePosition {
  readonly line: number
  readonly column: number
}

/**
 * The line and column of index `pos` in `input`. Only called when an error is thrown, so the
 * scan from the start keeps parsing itself free of line bookkeeping (string values may span lines).
 */
export function locate(input: string, pos: number): LinePosition {
  let line = 1
  let lineStart = 0
  for (let i = input.indexOf('\n'); i !== -1 && i < pos; i = input.indexOf('\n', i + 1)) {
    line++
    lineStart = i + 1
  }
  let column = 1
  for (let i = lineStart; i < pos; i++) {
    const c = input.charCodeAt(i)
    // A surrogate pair is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < pos) i++
    column++
  }
  return { line, column }
}

/** A `line L, column C: …` error with the position in `details` too. */
export function lineError(
  input: string,
  pos: number,
  what: string,
  code: ProtocolErrorCode = 'PROTOCOL_LINE_SYNTAX',
): ProtocolError {
  const { line, column } = locate(input, pos)
  return new ProtocolError(code, `line ${String(line)}, column ${String(column)}: ${what}`, {
    details: { line, column },
    ...(code === 'PROTOCOL_LINE_SYNTAX' ? { hint: syntaxHint } : {}),
  })
}

/** A read position in the text being parsed, with the limits that apply to it. */
export class LineCursor {
  readonly input: string
  readonly end: number
  readonly limits: Required<LineParseOptions>
  pos = 0

  constructor(input: string, limits: Required<LineParseOptions>) {
    this.input = input
    this.end = input.length
    this.limits = limits
  }

  /** The UTF-16 unit at `i`, or -1 past the end. */
  at(i: number): number {
    return i < this.end ? this.input.charCodeAt(i) : -1
  }

  /**
   * True at a line end: `\n`, `\r\n`, the end of input, or a `\r` that ends the input (the EBNF
   * `lines = line { [ "\r" ] "\n" line } [ "\r" ]`). A lone `\r` elsewhere is a control character.
   */
  isEolAt(i: number): boolean {
    const c = this.at(i)
    if (c === -1 || c === ch.lf) return true
    return c === ch.cr && (i + 1 === this.end || this.input.charCodeAt(i + 1) === ch.lf)
  }

  /** Moves past the line end at `pos` (call only where `isEolAt(pos)`). */
  consumeEol(): void {
    if (this.at(this.pos) === ch.cr) this.pos++
    if (this.at(this.pos) === ch.lf) this.pos++
  }

  skipSpaces(): void {
    while (this.at(this.pos) === ch.space) this.pos++
  }

  /** What is at `i`, for "found …" in error messages. */
  describe(i: number): string {
    const c = this.at(i)
    if (c === -1) return 'end of input'
    if (this.isEolAt(i)) return 'end of line'
    if (c === ch.space) return 'a space'
    if (isControl(c)) return `control character ${codePointName(c)}`
    const cp = this.input.codePointAt(i) ?? c
    return `'${String.fromCodePoint(cp)}'`
  }

  fail(pos: number, what: string, code: ProtocolErrorCode = 'PROTOCOL_LINE_SYNTAX'): never {
    throw lineError(this.input, pos, what, code)
  }
}
