import type { Readable } from 'node:stream'

/** Some whole lines of a line-protocol file, cut where no string value is open. */
export interface LineChunk {
  readonly bytes: Buffer
  /** The 1-based number of its first physical line in the file. */
  readonly firstLine: number
  /** The number of its last physical line. */
  readonly lastLine: number
  /** The physical line each point of the chunk starts on, in order (comments and blanks have none). */
  readonly pointLines: readonly number[]
  /** Bytes of the file read so far. */
  readonly bytesRead: number
}

export interface LineChunkOptions {
  /** Physical lines per chunk (a chunk may hold more while a string value spans lines). */
  readonly maxLines: number
  /** Bytes per chunk, the same way (a single longer line is a chunk of its own). */
  readonly maxBytes: number
}

const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const TAB = 0x09
const HASH = 0x23
const QUOTE = 0x22
const BACKSLASH = 0x5c
const EQUALS = 0x3d
const COMMA = 0x2c

/** Where a line-protocol scan stands at the end of a physical line. */
type ScanState = 'start' | 'key' | 'fieldKey' | 'valueStart' | 'value' | 'string' | 'rest'

/**
 * Reads a line-protocol stream in chunks of whole lines without holding the file in memory.
 * A string field value may hold line breaks, so a chunk never ends inside one: each line is
 * scanned just enough (names, `field="…"`, escapes) to know whether a string is still open.
 * Only the bytes that matter are looked at; the parser checks the grammar itself.
 */
export async function* readLineChunks(
  input: Readable,
  options: LineChunkOptions,
): AsyncGenerator<LineChunk> {
  let bytesRead = 0
  let lineNo = 0
  let carry: Buffer[] = []
  let parts: Buffer[] = []
  let partBytes = 0
  let firstLine = 1
  let pointLines: number[] = []
  let state: ScanState = 'start'

  const take = (line: Buffer): LineChunk | undefined => {
    lineNo++
    if (state === 'start' && startsPoint(line)) pointLines.push(lineNo)
    if (state !== 'start' || line.includes(QUOTE)) state = scanLine(line, state)
    parts.push(line)
    partBytes += line.length
    const full = lineNo - firstLine + 1 >= options.maxLines || partBytes >= options.maxBytes
    if (state === 'string' || !full) {
      if (state !== 'string') state = 'start'
      return undefined
    }
    state = 'start'
    return cut()
  }
  const cut = (): LineChunk => {
    const chunk = {
      bytes: Buffer.concat(parts, partBytes),
      firstLine,
      lastLine: lineNo,
      pointLines,
      bytesRead,
    }
    parts = []
    partBytes = 0
    pointLines = []
    firstLine = lineNo + 1
    return chunk
  }

  for await (const data of input as AsyncIterable<Buffer>) {
    bytesRead += data.length
    let pos = 0
    for (let nl = data.indexOf(LF, pos); nl !== -1; nl = data.indexOf(LF, pos)) {
      const piece = data.subarray(pos, nl + 1)
      const line = carry.length === 0 ? piece : Buffer.concat([...carry, piece])
      carry = []
      pos = nl + 1
      const chunk = take(line)
      if (chunk !== undefined) yield chunk
    }
    if (pos < data.length) carry.push(data.subarray(pos))
  }
  if (carry.length > 0) take(Buffer.concat(carry))
  if (parts.length > 0) yield cut()
}

/** True unless the line is blank or a comment (leading spaces and tabs allowed, as the parser does). */
function startsPoint(line: Buffer): boolean {
  let i = 0
  while (line[i] === SPACE || line[i] === TAB) i++
  const c = line[i]
  return !(c === undefined || c === LF || c === HASH || (c === CR && line[i + 1] === LF))
}

/**
 * Follows one physical line from `state` and returns the state at its end: `string` when a
 * string field value is still open, so the next line continues it.
 */
function scanLine(line: Buffer, from: ScanState): ScanState {
  let state: ScanState = from === 'start' ? 'key' : from
  let i = 0
  if (from === 'start') while (line[i] === SPACE || line[i] === TAB) i++
  for (; i < line.length; i++) {
    const c = line[i]
    switch (state) {
      case 'key':
        if (c === BACKSLASH) i++
        else if (c === SPACE) {
          while (line[i + 1] === SPACE) i++
          state = 'fieldKey'
        }
        break
      case 'fieldKey':
        if (c === BACKSLASH) i++
        else if (c === EQUALS) state = 'valueStart'
        break
      case 'valueStart':
        state = c === QUOTE ? 'string' : 'value'
        if (c === COMMA) state = 'fieldKey'
        if (c === SPACE) return 'rest'
        break
      case 'string':
        if (c === BACKSLASH) i++
        else if (c === QUOTE) state = 'value'
        break
      case 'value':
        if (c === COMMA) state = 'fieldKey'
        else if (c === SPACE) return 'rest'
        break
      default:
        return state
    }
  }
  return state
}
