import { parseRegex, type RegexNode } from './regex-parser.js'

/** Limits for one pattern and one match. */
export interface SafeRegexLimits {
  /** Longest pattern source, in characters. */
  readonly maxPatternLength: number
  /** Most automaton instructions after `{n,m}` repetitions are expanded. */
  readonly maxProgramSize: number
  /** Most (subject characters × instructions) one match may cost; over it the match throws. */
  readonly maxWork: number
}

export const defaultSafeRegexLimits: SafeRegexLimits = {
  maxPatternLength: 256,
  maxProgramSize: 2_000,
  maxWork: 20_000_000,
}

const CHAR = 0
const ANY = 1
const SPLIT = 2
const JMP = 3
const ASSERT = 4
const MATCH = 5

interface Split {
  op: typeof SPLIT
  x: number
  y: number
}
interface Jmp {
  op: typeof JMP
  x: number
}
type Instr =
  | { op: typeof CHAR; ranges: readonly number[]; negated: boolean }
  | { op: typeof ANY }
  | Split
  | Jmp
  | { op: typeof ASSERT; kind: 'bot' | 'eot' | 'word' | 'nonword' }
  | { op: typeof MATCH }

/** Thrown when a pattern is too large, or a match would cost more than `maxWork`. */
export class RegexLimitError extends Error {}

/**
 * A compiled pattern that answers "does it match anywhere in this string" (RE2's partial match,
 * like `RegExp.test`) by simulating its automaton over the string's code points: time
 * O(length × program size), whatever the pattern.
 *
 * @example
 * const re = SafeRegex.compile('^sensor-[0-9]+$')
 * re.test('sensor-12') // true
 */
export class SafeRegex {
  readonly pattern: string
  readonly #program: readonly Instr[]
  readonly #ignoreCase: boolean
  readonly #maxWork: number

  private constructor(pattern: string, program: Instr[], ignoreCase: boolean, maxWork: number) {
    this.pattern = pattern
    this.#program = program
    this.#ignoreCase = ignoreCase
    this.#maxWork = maxWork
  }

  /** Parses and compiles; throws `RegexSyntaxError` or {@link RegexLimitError}. */
  static compile(pattern: string, limits: SafeRegexLimits = defaultSafeRegexLimits): SafeRegex {
    if (pattern.length > limits.maxPatternLength) {
      throw new RegexLimitError(
        `the pattern has ${String(pattern.length)} characters, over the limit of ${String(limits.maxPatternLength)}`,
      )
    }
    const parsed = parseRegex(pattern)
    const program: Instr[] = []
    emit(parsed.node, program, limits.maxProgramSize)
    program.push({ op: MATCH })
    return new SafeRegex(pattern, program, parsed.ignoreCase, limits.maxWork)
  }

  /** Instructions in the compiled automaton. */
  get size(): number {
    return this.#program.length
  }

  /** True when the pattern matches somewhere in `subject`. */
  test(subject: string): boolean {
    const cps = Array.from(subject, (ch) => ch.codePointAt(0) ?? 0)
    const prog = this.#program
    if ((cps.length + 1) * prog.length > this.#maxWork) {
      throw new RegexLimitError(
        `matching a ${String(cps.length)}-character string against this pattern is over the work limit`,
      )
    }
    const folded = this.#ignoreCase ? cps.map(foldVariants) : undefined
    const n = cps.length
    let clist = new Int32Array(prog.length)
    let nlist = new Int32Array(prog.length)
    let ccount = 0
    const mark = new Int32Array(prog.length).fill(-1)
    const stack = new Int32Array(prog.length * 2 + 2)

    /** Adds pc and everything reachable from it without reading a character; true on MATCH. */
    const add = (list: Int32Array, count: number, pc0: number, pos: number): number => {
      let sp = 0
      stack[sp++] = pc0
      while (sp > 0) {
        const pc = stack[--sp] ?? 0
        if (mark[pc] === pos) continue
        mark[pc] = pos
        const ins = prog[pc] as Instr
        switch (ins.op) {
          case JMP:
            stack[sp++] = ins.x
            break
          case SPLIT:
            stack[sp++] = ins.y
            stack[sp++] = ins.x
            break
          case ASSERT:
            if (holds(ins.kind, cps, pos)) stack[sp++] = pc + 1
            break
          case MATCH:
            return -1
          default:
            list[count++] = pc
        }
      }
      return count
    }

    for (let i = 0; ; i++) {
      ccount = add(clist, ccount, 0, i) // a new attempt at every position: partial match
      if (ccount < 0) return true
      if (i === n || ccount === 0) {
        if (i === n) return false
        continue
      }
      const c = cps[i] ?? 0
      const variants = folded?.[i]
      let ncount = 0
      for (let k = 0; k < ccount; k++) {
        const pc = clist[k] ?? 0
        const ins = prog[pc] as Instr
        const ok =
          ins.op === ANY
            ? c !== 10
            : ins.op === CHAR &&
              (variants === undefined
                ? inSet(ins.ranges, ins.negated, c)
                : variants.some((v) => inSet(ins.ranges, ins.negated, v)))
        if (!ok) continue
        ncount = add(nlist, ncount, pc + 1, i + 1)
        if (ncount < 0) return true
      }
      ;[clist, nlist] = [nlist, clist]
      ccount = ncount
    }
  }
}

function emit(node: RegexNode, prog: Instr[], max: number): void {
  if (prog.length > max) {
    throw new RegexLimitError(
      `the pattern compiles to over ${String(max)} instructions; shorten it or use smaller {n,m} counts`,
    )
  }
  switch (node.t) {
    case 'set':
      prog.push({ op: CHAR, ranges: node.ranges, negated: node.negated })
      return
    case 'any':
      prog.push({ op: ANY })
      return
    case 'assert':
      prog.push({ op: ASSERT, kind: node.kind })
      return
    case 'cat':
      for (const item of node.items) emit(item, prog, max)
      return
    case 'alt': {
      const jumps: Jmp[] = []
      node.items.forEach((item, i) => {
        if (i === node.items.length - 1) return emit(item, prog, max)
        const split: Split = { op: SPLIT, x: prog.length + 1, y: 0 }
        prog.push(split)
        emit(item, prog, max)
        const jump: Jmp = { op: JMP, x: 0 }
        prog.push(jump)
        jumps.push(jump)
        split.y = prog.length
      })
      for (const j of jumps) j.x = prog.length
      return
    }
    case 'rep':
      emitRepeat(node.node, node.min, node.max, prog, max)
      return
  }
}

function emitRepeat(node: RegexNode, min: number, rmax: number, prog: Instr[], max: number): void {
  for (let i = 0; i < min; i++) emit(node, prog, max)
  if (rmax === Infinity) {
    const split: Split = { op: SPLIT, x: prog.length + 1, y: 0 }
    const loop = prog.length
    prog.push(split)
    emit(node, prog, max)
    prog.push({ op: JMP, x: loop })
    split.y = prog.length
    return
  }
  const splits: Split[] = []
  for (let i = min; i < rmax; i++) {
    const split: Split = { op: SPLIT, x: prog.length + 1, y: 0 }
    prog.push(split)
    splits.push(split)
    emit(node, prog, max)
  }
  for (const s of splits) s.y = prog.length
}

function inSet(ranges: readonly number[], negated: boolean, c: number): boolean {
  let found = false
  for (let i = 0; i < ranges.length; i += 2) {
    if (c >= (ranges[i] ?? 0) && c <= (ranges[i + 1] ?? -1)) {
      found = true
      break
    }
  }
  return found !== negated
}

function isWordChar(c: number | undefined): boolean {
  return (
    c !== undefined &&
    ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122))
  )
}

function holds(kind: 'bot' | 'eot' | 'word' | 'nonword', cps: readonly number[], pos: number) {
  switch (kind) {
    case 'bot':
      return pos === 0
    case 'eot':
      return pos === cps.length
    case 'word':
      return isWordChar(cps[pos - 1]) !== isWordChar(cps[pos])
    case 'nonword':
      return isWordChar(cps[pos - 1]) === isWordChar(cps[pos])
  }
}

/** The code point and its simple lower- and upper-case forms, for `(?i)`. */
function foldVariants(c: number): number[] {
  const s = String.fromCodePoint(c)
  const lower = s.toLowerCase().codePointAt(0) ?? c
  const upper = s.toUpperCase().codePointAt(0) ?? c
  return [c, lower, upper]
}
