/**
 * A parser for the subset of RE2 syntax that rule expressions' `matches()` accepts. It builds a
 * small tree that `safe-regex.ts` compiles to an automaton run in linear time — never a
 * backtracking `RegExp`, whose worst case is exponential (`(a+)+b`) or polynomial (`a*a*b`).
 *
 * Supported: literals and escaped punctuation, `.`, classes `[a-z]` `[^…]`, `\d \w \s` and their
 * negations, `\n \t \r \f \v \xHH \x{H…} \uHHHH`, anchors `^ $ \A \z`, word boundaries `\b \B`,
 * groups `(…)` `(?:…)` `(?P<name>…)` `(?<name>…)`, alternation `|`, quantifiers `* + ? {n} {n,}
 * {n,m}` (a trailing `?` for laziness is accepted: it does not change whether a string matches),
 * and a leading `(?i)` for case-insensitive matching. Backreferences and lookaround are refused:
 * RE2 does not have them either, because no linear-time engine can.
 */

/** One node of a parsed pattern. Character sets hold inclusive code-point ranges as pairs. */
export type RegexNode =
  | { readonly t: 'set'; readonly ranges: readonly number[]; readonly negated: boolean }
  | { readonly t: 'any' }
  | { readonly t: 'cat'; readonly items: readonly RegexNode[] }
  | { readonly t: 'alt'; readonly items: readonly RegexNode[] }
  | { readonly t: 'rep'; readonly min: number; readonly max: number; readonly node: RegexNode }
  | { readonly t: 'assert'; readonly kind: 'bot' | 'eot' | 'word' | 'nonword' }

/** A pattern the parser cannot or will not accept; `refused` marks features refused on purpose. */
export class RegexSyntaxError extends Error {
  readonly offset: number
  readonly refused: boolean

  constructor(message: string, offset: number, refused = false) {
    super(message)
    this.offset = offset
    this.refused = refused
  }
}

/** The largest count in `{n,m}`, as in RE2. */
const maxRepeat = 1000
/** The deepest group nesting. */
const maxNesting = 32

const digit = [48, 57]
const word = [48, 57, 65, 90, 95, 95, 97, 122]
const space = [9, 10, 12, 13, 32, 32]

const classEscapes: Readonly<Record<string, { ranges: number[]; negated: boolean }>> = {
  d: { ranges: digit, negated: false },
  D: { ranges: digit, negated: true },
  w: { ranges: word, negated: false },
  W: { ranges: word, negated: true },
  s: { ranges: space, negated: false },
  S: { ranges: space, negated: true },
}

const charEscapes: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, f: 12, v: 11 }

/** The parsed pattern and whether it ignores case (`(?i)` in front). */
export interface ParsedRegex {
  readonly node: RegexNode
  readonly ignoreCase: boolean
}

/** Parses a pattern; throws {@link RegexSyntaxError} with the offset of the problem. */
export function parseRegex(pattern: string): ParsedRegex {
  const p = new Parser(pattern)
  const ignoreCase = p.eat('(?i)')
  const node = p.alternation(0)
  if (!p.done()) throw new RegexSyntaxError('unmatched ")"', p.pos)
  return { node, ignoreCase }
}

class Parser {
  readonly src: string
  pos = 0

  constructor(src: string) {
    this.src = src
  }

  done(): boolean {
    return this.pos >= this.src.length
  }

  peek(): string {
    return this.src[this.pos] ?? ''
  }

  eat(s: string): boolean {
    if (!this.src.startsWith(s, this.pos)) return false
    this.pos += s.length
    return true
  }

  /** The next whole code point (a surrogate pair counts as one character). */
  codePoint(): number {
    const cp = this.src.codePointAt(this.pos) ?? 0
    this.pos += cp > 0xffff ? 2 : 1
    return cp
  }

  alternation(depth: number): RegexNode {
    if (depth > maxNesting) throw new RegexSyntaxError('groups nest too deeply', this.pos)
    const items = [this.concatenation(depth)]
    while (this.eat('|')) items.push(this.concatenation(depth))
    return items.length === 1 ? (items[0] as RegexNode) : { t: 'alt', items }
  }

  concatenation(depth: number): RegexNode {
    const items: RegexNode[] = []
    while (!this.done() && this.peek() !== '|' && this.peek() !== ')') {
      items.push(this.repetition(depth))
    }
    return items.length === 1 ? (items[0] as RegexNode) : { t: 'cat', items }
  }

  repetition(depth: number): RegexNode {
    const start = this.pos
    let node = this.atom(depth)
    let quantified = false
    for (;;) {
      const at = this.pos
      const range = this.quantifier()
      if (range === undefined) return node
      if (quantified) throw new RegexSyntaxError('a quantifier cannot follow another', at)
      if (node.t === 'assert') throw new RegexSyntaxError('nothing to repeat', start)
      this.eat('?') // laziness does not change whether a string matches
      node = { t: 'rep', min: range[0], max: range[1], node }
      quantified = true
    }
  }

  quantifier(): [number, number] | undefined {
    if (this.eat('*')) return [0, Infinity]
    if (this.eat('+')) return [1, Infinity]
    if (this.eat('?')) return [0, 1]
    const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(this.src.slice(this.pos, this.pos + 12))
    if (m === null) return undefined // a `{` that is not a repetition is a literal, as in RE2
    const min = Number(m[1])
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3])
    if (min > maxRepeat || (max !== Infinity && max > maxRepeat) || max < min) {
      throw new RegexSyntaxError(
        `bad repetition ${m[0]} (counts are 0…${String(maxRepeat)})`,
        this.pos,
      )
    }
    this.pos += m[0].length
    return [min, max]
  }

  atom(depth: number): RegexNode {
    const at = this.pos
    const c = this.peek()
    if (c === '(') return this.group(depth)
    if (c === '[') return this.charClass()
    this.pos++
    switch (c) {
      case '.':
        return { t: 'any' }
      case '^':
        return { t: 'assert', kind: 'bot' }
      case '$':
        return { t: 'assert', kind: 'eot' }
      case '\\':
        return this.escape(false)
      case '*':
      case '+':
      case '?':
        throw new RegexSyntaxError('nothing to repeat', at)
      default:
        this.pos = at
        return literal(this.codePoint())
    }
  }

  group(depth: number): RegexNode {
    const at = this.pos
    this.pos++
    if (this.eat('?')) {
      if (this.eat(':')) {
        // non-capturing
      } else if (this.eat('P<') || (this.peek() === '<' && /^<[A-Za-z]/.test(this.rest(2)))) {
        if (this.peek() === '<') this.pos++
        const m = /^[A-Za-z_][A-Za-z0-9_]*>/.exec(this.rest(64))
        if (m === null) throw new RegexSyntaxError('bad group name', this.pos)
        this.pos += m[0].length
      } else if (/^(=|!|<=|<!)/.test(this.rest(2))) {
        throw new RegexSyntaxError('lookaround is not supported', at, true)
      } else {
        throw new RegexSyntaxError('unsupported group flags (only a leading (?i) is)', at)
      }
    }
    const node = this.alternation(depth + 1)
    if (!this.eat(')')) throw new RegexSyntaxError('missing ")"', at)
    return node
  }

  rest(n: number): string {
    return this.src.slice(this.pos, this.pos + n)
  }

  escape(inClass: boolean): RegexNode {
    const at = this.pos - 1
    if (this.done()) throw new RegexSyntaxError('trailing backslash', at)
    const c = this.peek()
    this.pos++
    const cls = classEscapes[c]
    if (cls !== undefined) return { t: 'set', ranges: cls.ranges, negated: cls.negated }
    const ch = charEscapes[c]
    if (ch !== undefined) return literal(ch)
    if (!inClass) {
      if (c === 'b') return { t: 'assert', kind: 'word' }
      if (c === 'B') return { t: 'assert', kind: 'nonword' }
      if (c === 'A') return { t: 'assert', kind: 'bot' }
      if (c === 'z') return { t: 'assert', kind: 'eot' }
    }
    if (c === 'x' || c === 'u') return literal(this.hex(c, at))
    if (/[1-9]/.test(c) || c === 'k') {
      throw new RegexSyntaxError('backreferences are not supported', at, true)
    }
    if (/[A-Za-z0-9]/.test(c)) throw new RegexSyntaxError(`unsupported escape \\${c}`, at)
    this.pos--
    return literal(this.codePoint())
  }

  hex(kind: string, at: number): number {
    const m =
      kind === 'u'
        ? /^[0-9A-Fa-f]{4}/.exec(this.rest(4))
        : (/^\{([0-9A-Fa-f]{1,6})\}/.exec(this.rest(8)) ?? /^[0-9A-Fa-f]{2}/.exec(this.rest(2)))
    if (m === null) throw new RegexSyntaxError(`bad \\${kind} escape`, at)
    this.pos += m[0].length
    const cp = parseInt(m[1] ?? m[0], 16)
    if (cp > 0x10ffff) throw new RegexSyntaxError('code point out of range', at)
    return cp
  }

  charClass(): RegexNode {
    const at = this.pos
    this.pos++
    const negated = this.eat('^')
    const ranges: number[] = []
    let first = true
    while (first || this.peek() !== ']') {
      if (this.done()) throw new RegexSyntaxError('missing "]"', at)
      first = false
      const lo = this.classAtom(ranges)
      if (lo === undefined) continue
      if (this.peek() === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos++
        const hi = this.classAtom(ranges)
        if (hi === undefined || hi < lo) throw new RegexSyntaxError('bad range in class', at)
        ranges.push(lo, hi)
      } else {
        ranges.push(lo, lo)
      }
    }
    this.pos++
    return { t: 'set', ranges, negated }
  }

  /** One character of a class, or undefined after adding an escape class like `\d` to `ranges`. */
  classAtom(ranges: number[]): number | undefined {
    if (!this.eat('\\')) return this.codePoint()
    const node = this.escape(true)
    if (node.t !== 'set') throw new RegexSyntaxError('bad escape in class', this.pos)
    if (node.negated)
      throw new RegexSyntaxError('negated escapes (\\D \\W \\S) in a class', this.pos)
    if (node.ranges.length === 2 && node.ranges[0] === node.ranges[1]) return node.ranges[0]
    ranges.push(...node.ranges)
    return undefined
  }
}

function literal(cp: number): RegexNode {
  return { t: 'set', ranges: [cp, cp], negated: false }
}
