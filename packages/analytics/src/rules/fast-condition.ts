/**
 * A native evaluator for the conditions most rules have — a field compared with a number, an
 * operator's flag, `has()`, joined by `&&`, `||` and `!` — run before the CEL interpreter. It
 * answers only when every value it meets is a plain number, bool or string where one is expected
 * and every field it reads is present; anything else (a missing field, an int64, a timestamp, a
 * type mismatch, an error) gives {@link undecided} and the expression runs in CEL as written, so
 * results are CEL's in every case. The property test in fast-condition.test.ts compares the two.
 */

/** The fast path could not decide: run the expression in CEL. */
export const undecided: unique symbol = Symbol('undecided')

type Context = Readonly<Record<string, unknown>>
type Eval = (context: Context) => unknown

interface Node {
  readonly op: string
  readonly args: unknown
}

/** The variables the fast path reads (the others, such as `now`, leave the expression to CEL). */
const roots = new Set(['payload', 'state', 'tags', 'device', 'twin', 'topic', 'kind'])
const comparisons = new Set(['<', '<=', '>', '>=', '==', '!='])

/**
 * The native form of a condition's parsed tree, or undefined when it has a part the fast path
 * does not know (then CEL runs it every time).
 *
 * @example
 * const fast = fastCondition(parsed.ast)
 * const v = fast?.(context) ?? undecided
 * if (v === undecided) runInCel()
 */
export function fastCondition(
  ast: unknown,
): ((context: Context) => boolean | typeof undecided) | undefined {
  const compiled = compile(ast as Node, 0)
  if (compiled === undefined) return undefined
  return (context) => {
    const v = compiled(context)
    return typeof v === 'boolean' ? v : undecided
  }
}

/** Trees deeper than this are left to CEL (the fast path recurses). */
const maxDepth = 32

function compile(node: Node | undefined, depth: number): Eval | undefined {
  if (depth > maxDepth || node === undefined) return undefined
  const args = node.args
  switch (node.op) {
    case 'value':
      // doubles, bools and strings only: a CEL int literal is a bigint and compares by CEL's rules
      return typeof args === 'number' || typeof args === 'boolean' || typeof args === 'string'
        ? () => args
        : undefined
    case 'id':
      return typeof args === 'string' && roots.has(args) ? (c) => c[args] : undefined
    case '.': {
      const [receiver, field] = args as [Node, string]
      const from = compile(receiver, depth + 1)
      if (from === undefined || typeof field !== 'string') return undefined
      return (c) => {
        const r = from(c)
        return isRecord(r) && Object.hasOwn(r, field) ? r[field] : undecided
      }
    }
    case 'call': {
      const [name, callArgs] = args as [string, Node[]]
      const target = callArgs[0]
      if (name !== 'has' || callArgs.length !== 1 || target?.op !== '.') return undefined
      const [receiver, field] = target.args as [Node, string]
      const from = compile(receiver, depth + 1)
      if (from === undefined || typeof field !== 'string') return undefined
      return (c) => {
        const r = from(c)
        return isRecord(r) ? Object.hasOwn(r, field) : undecided
      }
    }
    case '!_': {
      const inner = compile(args as Node, depth + 1)
      if (inner === undefined) return undefined
      return (c) => {
        const v = inner(c)
        return typeof v === 'boolean' ? !v : undecided
      }
    }
    case '&&':
    case '||': {
      const [l, r] = args as [Node, Node]
      const left = compile(l, depth + 1)
      const right = compile(r, depth + 1)
      if (left === undefined || right === undefined) return undefined
      const decisive = node.op === '||'
      return (c) => {
        const a = left(c)
        if (typeof a !== 'boolean') return undecided
        if (a === decisive) return a
        const b = right(c)
        return typeof b === 'boolean' ? b : undecided
      }
    }
    default: {
      if (!comparisons.has(node.op)) return undefined
      const [l, r] = args as [Node, Node]
      const left = compile(l, depth + 1)
      const right = compile(r, depth + 1)
      if (left === undefined || right === undefined) return undefined
      return comparison(node.op, left, right)
    }
  }
}

function comparison(op: string, left: Eval, right: Eval): Eval {
  return (c) => {
    const a = left(c)
    const b = right(c)
    const t = typeof a
    // same JavaScript type and one CEL can compare: double, bool or string
    if (t !== typeof b || (t !== 'number' && t !== 'boolean' && t !== 'string')) return undecided
    if (op === '==') return a === b
    if (op === '!=') return a !== b
    // ordering of doubles only: CEL's ordering of bools and strings is left to CEL
    if (t !== 'number') return undecided
    const x = a as number
    const y = b as number
    switch (op) {
      case '<':
        return x < y
      case '<=':
        return x <= y
      case '>':
        return x > y
      default:
        return x >= y
    }
  }
}

/** A CEL map as rules pass it in: a plain or null-prototype object, not a Map, list or value. */
function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  if (typeof v !== 'object' || v === null) return false
  return !(v instanceof Map || Array.isArray(v) || v instanceof Date || v instanceof Uint8Array)
}
