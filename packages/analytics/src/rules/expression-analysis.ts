import type { ExpressionLimits } from './expression-limits.js'
import { RegexLimitError, SafeRegex } from './regex/safe-regex.js'
import { RegexSyntaxError } from './regex/regex-parser.js'

/**
 * A static walk over a type-checked expression: refuses what rules do not allow, and estimates
 * the worst-case cost (node evaluations) and the largest value it can build, from the input
 * limits. CEL has no loops, so only comprehensions (`all`, `exists`, `exists_one`, `map`,
 * `filter`) multiply work, by the size of what they iterate; only `+` on strings and lists and a
 * few functions (`split`, `join`, `map`) grow values; `cel.bind` can feed a grown value to the
 * next one, which is how an expression could double a value per node — so sizes are tracked
 * through bindings and comprehension variables too.
 */

/** The parsed node as the library builds it (its public type is a union keyed by `op`). */
interface Node {
  readonly input: string
  readonly op: string
  readonly args: unknown
  readonly start: number
  readonly end: number
  readonly checkedType?: { readonly name: string }
}

/** Why an expression is refused, and where. */
export class AnalysisError extends Error {
  readonly kind: 'limit' | 'refused' | 'invalid'
  readonly start: number
  readonly end: number

  constructor(
    kind: 'limit' | 'refused' | 'invalid',
    message: string,
    at: { start: number; end: number },
  ) {
    super(message)
    this.kind = kind
    this.start = at.start
    this.end = at.end
  }
}

/** What the walk found: the estimate, and the `matches` calls with their compiled patterns. */
export interface Analysis {
  readonly cost: number
  readonly maxValueSize: number
  readonly regexes: ReadonlyMap<string, SafeRegex>
  /** The `matches` calls, for the rewrite onto the linear-time matcher. */
  readonly matchCalls: readonly { readonly receiverEnd: number; readonly patternStart: number }[]
}

/**
 * Bounds of one value: the work to compute it, its top-level count, its total size (an upper
 * bound on anything read out of it), and the memory building it allocates (a reference to an
 * input or to another value counts 1; a concatenation counts what it copies).
 */
interface Bound {
  readonly cost: number
  readonly items: number
  readonly size: number
  readonly mem: number
  /** Read from an input: bounded by the input limits whatever the path. */
  readonly input: boolean
}

const comprehensions = new Set(['all', 'exists', 'exists_one', 'map', 'filter'])
const scalarTypes = new Set([
  'bool',
  'int',
  'uint',
  'double',
  'null_type',
  'google.protobuf.Timestamp',
  'google.protobuf.Duration',
])
/** Functions refused on purpose: `bytes.json()` builds unbounded structures from bytes. */
const refusedFunctions = new Set(['json'])
/** The receiver method names that run a regular expression. */
export const regexMethods = new Set(['matches', 'matchRe'])

/** Walks `root`; throws {@link AnalysisError}. `inputs` are the names of input variables. */
export function analyzeExpression(
  root: unknown,
  inputs: ReadonlySet<string>,
  limits: ExpressionLimits,
): Analysis {
  const regexes = new Map<string, SafeRegex>()
  const matchCalls: { receiverEnd: number; patternStart: number }[] = []
  let maxValueSize = 0
  const inputBound: Bound = {
    cost: 1,
    items: limits.input.maxListLength,
    size: Math.max(limits.input.maxStringLength, limits.input.maxNodes),
    mem: 1,
    input: true,
  }
  /** What copying a value copies: an input's characters or element references, not its nesting. */
  const inputCopy = Math.max(limits.input.maxStringLength, limits.input.maxListLength)
  const copy = (b: Bound): number => (b.input ? inputCopy : b.size)
  const scalar = (cost: number): Bound => ({ cost, items: 1, size: 1, mem: 1, input: false })
  const derived = (cost: number, from: Bound): Bound =>
    from.input
      ? { ...inputBound, cost }
      : { cost, items: from.size, size: from.size, mem: 1, input: false }

  const visit = (node: Node, scope: ReadonlyMap<string, Bound>, depth: number): Bound => {
    if (depth > limits.maxAstDepth) {
      throw new AnalysisError(
        'limit',
        `the expression nests deeper than ${String(limits.maxAstDepth)} levels`,
        node,
      )
    }
    const b = bound(node, scope, depth + 1)
    const type = node.checkedType?.name
    const result = type !== undefined && scalarTypes.has(type) ? scalar(b.cost) : b
    if (result.mem > limits.maxValueSize) {
      throw new AnalysisError(
        'limit',
        `this part can build a value of ${fmt(result.mem)} elements or characters, over the limit of ${fmt(limits.maxValueSize)}`,
        node,
      )
    }
    if (result.cost > limits.maxCost) {
      throw new AnalysisError(
        'limit',
        `this part can cost ${fmt(result.cost)} evaluation steps with inputs at their limits (lists of ${fmt(limits.input.maxListLength)}), over the limit of ${fmt(limits.maxCost)}`,
        node,
      )
    }
    maxValueSize = Math.max(maxValueSize, result.mem)
    return result
  }

  const bound = (node: Node, scope: ReadonlyMap<string, Bound>, depth: number): Bound => {
    const kids = (list: readonly Node[]) => list.map((k) => visit(k, scope, depth))
    const sum = (list: readonly Bound[]) => list.reduce((a, k) => a + k.cost, 1)
    switch (node.op) {
      case 'value': {
        const v = node.args
        const n = typeof v === 'string' || v instanceof Uint8Array ? v.length : 1
        return { cost: 1, items: n, size: n, mem: n, input: false }
      }
      case 'id': {
        const name = node.args as string
        const known = scope.get(name)
        if (known !== undefined) return { ...known, cost: 1, mem: 1 }
        return inputs.has(name) ? inputBound : scalar(1)
      }
      case '.':
      case '.?': {
        const [receiver, field] = node.args as [Node, string]
        const r = visit(receiver, scope, depth)
        // fields exist on maps only: `now.constructor` must not reach the JavaScript object behind
        const type = receiver.checkedType?.name
        if (
          type !== undefined &&
          (scalarTypes.has(type) || type === 'string' || type === 'bytes')
        ) {
          throw new AnalysisError('refused', `a ${type} has no field ${field}`, node)
        }
        return derived(r.cost + 1, r)
      }
      case '[]':
      case '[?]': {
        const [r, i] = kids(node.args as [Node, Node])
        return derived((r?.cost ?? 0) + (i?.cost ?? 0) + 1, r ?? inputBound)
      }
      case 'list': {
        const items = kids(node.args as Node[])
        const size = items.reduce((a, k) => a + k.size, items.length)
        const mem = items.reduce((a, k) => a + k.mem, items.length)
        return { cost: sum(items), items: items.length, size, mem, input: false }
      }
      case 'map': {
        const entries = (node.args as [Node, Node][]).flatMap((e) => kids(e))
        const size = entries.reduce((a, k) => a + k.size, entries.length / 2)
        const mem = entries.reduce((a, k) => a + k.mem, entries.length / 2)
        return { cost: sum(entries), items: entries.length / 2, size, mem, input: false }
      }
      case '?:': {
        const [c, a, b] = kids(node.args as [Node, Node, Node]) as [Bound, Bound, Bound]
        return {
          cost: c.cost + a.cost + b.cost + 1,
          items: Math.max(a.items, b.items),
          size: Math.max(a.size, b.size),
          mem: c.mem + Math.max(a.mem, b.mem),
          input: a.input && b.input,
        }
      }
      case '!_':
      case '-_':
        return scalar(visit(node.args as Node, scope, depth).cost + 1)
      case 'call':
        return call(node, scope, depth)
      case 'rcall':
        return receiverCall(node, scope, depth)
      default: {
        // binary operators, && and ||
        const [l, r] = kids(node.args as [Node, Node]) as [Bound, Bound]
        const cost = l.cost + r.cost + 1 + (node.op === '+' ? copied(l) + copied(r) : 0)
        if (node.op !== '+') return scalar(cost)
        const size = l.size + r.size
        const mem = l.mem + r.mem + copy(l) + copy(r)
        return { cost, items: l.items + r.items, size, mem, input: false }
      }
    }
  }

  const call = (node: Node, scope: ReadonlyMap<string, Bound>, depth: number): Bound => {
    const [name, args] = node.args as [string, Node[]]
    if (refusedFunctions.has(name)) throw refused(name, node)
    const bs = args.map((a) => visit(a, scope, depth))
    const cost = bs.reduce((a, k) => a + k.cost + copied(k), 1)
    // conversions (string(), bytes(), dyn(), …) give back at most what they were given
    const first = bs[0]
    if (name === 'has' || first === undefined) return scalar(cost)
    const size = Math.max(first.size, 32)
    const mem = bs.reduce((a, k) => a + k.mem + copy(k), 32)
    return { cost, items: Math.max(first.items, 32), size, mem, input: false }
  }

  const receiverCall = (node: Node, scope: ReadonlyMap<string, Bound>, depth: number): Bound => {
    const [name, receiver, args] = node.args as [string, Node, Node[]]
    if (refusedFunctions.has(name)) throw refused(name, node)
    if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel' && args.length === 3) {
      const [v, value, body] = args as [Node, Node, Node]
      const bound = visit(value, scope, depth)
      const inner = new Map(scope).set(v.args as string, bound)
      const b = visit(body, inner, depth)
      return { ...b, cost: bound.cost + b.cost + 1, mem: bound.mem + b.mem }
    }
    const r = visit(receiver, scope, depth)
    if (comprehensions.has(name) && args[0]?.op === 'id') {
      const element = r.input
        ? inputBound
        : { cost: 1, items: r.size, size: r.size, mem: 1, input: false }
      const inner = new Map(scope).set(args[0].args as string, element)
      const bodies = args.slice(1).map((a) => visit(a, inner, depth))
      const perItem = bodies.reduce((a, k) => a + k.cost, 2)
      const cost = r.cost + r.items * perItem
      if (name === 'map') {
        const last = bodies[bodies.length - 1] ?? element
        const mem = r.mem + r.items * (last.mem + 1)
        return { cost, items: r.items, size: r.items * (last.size + 1), mem, input: false }
      }
      if (name === 'filter') {
        return { cost, items: r.items, size: r.size, mem: r.mem + r.items, input: r.input }
      }
      return scalar(cost)
    }
    if (regexMethods.has(name)) return regexCall(node, r, args)
    const bs = args.map((a) => visit(a, scope, depth))
    const cost = bs.reduce((a, k) => a + k.cost + copied(k), r.cost + 1 + copied(r))
    const size = r.size + bs.reduce((a, k) => a + k.size, 0)
    const grows = name === 'hex' || name === 'split' ? 2 : 1 // hex doubles; split adds an element per part
    const mem = bs.reduce((a, k) => a + k.mem + grows * copy(k), r.mem + grows * copy(r))
    // split() makes up to one element per character, hex()/base64() double
    return { cost, items: size, size: 2 * size, mem, input: false }
  }

  const regexCall = (node: Node, subject: Bound, args: readonly Node[]): Bound => {
    const pattern = args[0]
    if (args.length !== 1 || pattern?.op !== 'value' || typeof pattern.args !== 'string') {
      throw new AnalysisError(
        'refused',
        'matches() takes a string literal pattern, so it can be checked when the rule is saved',
        pattern ?? node,
      )
    }
    let re = regexes.get(pattern.args)
    if (re === undefined) {
      try {
        re = SafeRegex.compile(pattern.args, limits.regex)
      } catch (err) {
        if (err instanceof RegexSyntaxError) {
          // exact when the literal holds the pattern verbatim (no escapes), else the literal
          const verbatim = pattern.input.indexOf(pattern.args, pattern.start)
          const at = verbatim >= 0 && verbatim < pattern.end ? verbatim + err.offset : pattern.start
          throw new AnalysisError(
            err.refused ? 'refused' : 'invalid',
            `regular expression: ${err.message}`,
            { start: at, end: at },
          )
        }
        if (err instanceof RegexLimitError) throw new AnalysisError('limit', err.message, pattern)
        throw err
      }
      regexes.set(pattern.args, re)
    }
    const chars = subject.input ? limits.input.maxStringLength : subject.size
    matchCalls.push({
      receiverEnd: (node.args as [string, Node])[1].end,
      patternStart: pattern.start,
    })
    return scalar(subject.cost + 2 + regexCost(chars, re.size))
  }

  const total = visit(root as Node, new Map(), 0)
  return { cost: total.cost, maxValueSize, regexes, matchCalls }
}

/** Evaluation steps charged for one regular-expression match. */
export function regexCost(chars: number, programSize: number): number {
  return Math.ceil(((chars + 1) * programSize) / 20)
}

/** Work to copy a value built by the expression itself (inputs are bounded by their limits). */
function copied(b: Bound): number {
  return b.input ? 0 : b.items
}

function refused(name: string, node: Node): AnalysisError {
  return new AnalysisError('refused', `${name}() is not available in rules`, node)
}

function fmt(n: number): string {
  return n >= 1e15 ? n.toExponential(1) : Math.round(n).toLocaleString('en-US')
}
