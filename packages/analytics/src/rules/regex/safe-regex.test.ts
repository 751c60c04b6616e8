import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { RegexSyntaxError } from './regex-parser.js'
import { RegexLimitError, SafeRegex } from './safe-regex.js'

const test = (pattern: string, subject: string) => SafeRegex.compile(pattern).test(subject)

describe('SafeRegex', () => {
  it('matches like RE2 partial matching on everyday patterns', () => {
    const cases: [string, string, boolean][] = [
      ['^sensor-[0-9]+$', 'sensor-12', true],
      ['^sensor-[0-9]+$', 'sensor-', false],
      ['^sensor-[0-9]+$', 'xsensor-1', false],
      ['a|b|c', 'xxc', true],
      ['(ab)+c', 'zababc', true],
      ['^(ab)+c$', 'ababac', false],
      ['\\bfoo\\b', 'a foo b', true],
      ['\\bfoo\\b', 'afoo', false],
      ['\\Bfoo', 'afoo', true],
      ['(?i)ERROR', 'an error', true],
      ['a{2,3}$', 'caaa', true],
      ['^a{2}$', 'aaa', false],
      ['^a{2,}$', 'aaaa', true],
      ['[^a-c]', 'abc', false],
      ['[\\d_]+x', '__1x', true],
      ['\\s\\S\\w\\W\\d\\D', ' xa-1b', true],
      ['x*', '', true],
      ['^$', '', true],
      ['.', '\n', false],
      ['^h.llo$', 'héllo', true],
      ['^.$', '😀', true],
      ['\\x41\\x{42}\\u0043', 'ABC', true],
      ['a.c', 'a.c', true],
      ['a\\.c', 'abc', false],
      ['(?:ab|cd)e', 'cde', true],
      ['(?P<x>a)b', 'ab', true],
      ['(?<x>a)b', 'ab', true],
      ['a+?b', 'aab', true],
      ['a{,2}', 'a{,2}', true],
      ['\\Aab\\z', 'ab', true],
      ['[a-]', '-', true],
      ['[]a]', ']', true],
    ]
    for (const [pattern, subject, want] of cases) {
      assert.equal(test(pattern, subject), want, `${pattern} on ${JSON.stringify(subject)}`)
    }
  })

  it('agrees with RegExp on random patterns over a small alphabet', () => {
    const atom = fc.oneof(
      fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '\\w', '(?:a|b)', '(ab)', '^', '$'),
    )
    const quantified = fc
      .tuple(atom, fc.constantFrom('', '', '*', '+', '?', '{1,2}', '{2}'))
      .map(([a, q]) => (q !== '' && (a === '^' || a === '$') ? a : a + q))
    const pattern = fc
      .array(quantified, { minLength: 1, maxLength: 5 })
      .chain((parts) =>
        fc
          .boolean()
          .map((alt) =>
            alt && parts.length > 1
              ? `${parts[0] ?? ''}|${parts.slice(1).join('')}`
              : parts.join(''),
          ),
      )
    const subject = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 10 })
    fc.assert(
      fc.property(pattern, subject, (p, s) => {
        assert.equal(SafeRegex.compile(p).test(s), new RegExp(p, 'u').test(s), `${p} on ${s}`)
      }),
      { numRuns: 2_000 },
    )
  })

  it('takes linear time on patterns that make backtracking engines explode', () => {
    const started = performance.now()
    assert.equal(test('(a+)+b', 'a'.repeat(20_000)), false)
    assert.equal(test('a*a*a*a*b', 'a'.repeat(20_000)), false)
    assert.equal(test('(a|aa)*c', 'a'.repeat(20_000)), false)
    assert.ok(performance.now() - started < 1_000, `took ${String(performance.now() - started)} ms`)
  })

  it('refuses backreferences and lookaround on purpose, and reports syntax errors with offsets', () => {
    const refused = ['(a)\\1', '(?=a)', '(?!a)', '(?<=a)b', '(?<!a)b', '\\k<x>']
    for (const p of refused) {
      assert.throws(
        () => SafeRegex.compile(p),
        (e: unknown) => e instanceof RegexSyntaxError && e.refused,
        p,
      )
    }
    const broken: [string, number][] = [
      ['a**', 2],
      ['(a', 0],
      ['a)', 1],
      ['[a', 0],
      ['*a', 0],
      ['a{5,2}', 1],
      ['\\p{L}', 0],
      ['(?s).', 0],
      ['ab\\', 2],
    ]
    for (const [p, offset] of broken) {
      assert.throws(
        () => SafeRegex.compile(p),
        (e: unknown) => e instanceof RegexSyntaxError && !e.refused && e.offset === offset,
        p,
      )
    }
  })

  it('bounds pattern length, program size and work per match', () => {
    assert.throws(() => SafeRegex.compile('a'.repeat(300)), RegexLimitError)
    assert.throws(() => SafeRegex.compile('(a{1000}){1000}'), RegexLimitError)
    const re = SafeRegex.compile('[a-z]{0,100}x', {
      maxPatternLength: 256,
      maxProgramSize: 2_000,
      maxWork: 10_000,
    })
    assert.throws(() => re.test('a'.repeat(1_000)), RegexLimitError)
  })
})
