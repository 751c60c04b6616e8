import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ProtocolError } from '../errors/protocol-error.js'
import { compareSemver, isSemver } from './semver.js'

describe('compareSemver', () => {
  it('orders major, minor and patch numerically (semver.org §11.2)', () => {
    const ordered = ['1.0.0', '2.0.0', '2.1.0', '2.1.1', '2.10.0', '10.0.0']
    for (let i = 0; i + 1 < ordered.length; i++) {
      assert.equal(
        compareSemver(ordered[i] ?? '', ordered[i + 1] ?? ''),
        -1,
        `${String(ordered[i])} < next`,
      )
      assert.equal(compareSemver(ordered[i + 1] ?? '', ordered[i] ?? ''), 1)
    }
  })

  it('orders the semver.org §11.4 prerelease example', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ]
    for (const [i, a] of ordered.entries()) {
      for (const [j, b] of ordered.entries()) {
        assert.equal(compareSemver(a, b), Math.sign(i - j), `${a} vs ${b}`)
      }
    }
  })

  it('ignores build metadata (§10)', () => {
    assert.equal(compareSemver('1.0.0+20130313144700', '1.0.0'), 0)
    assert.equal(compareSemver('1.0.0-beta+exp.sha.5114f85', '1.0.0-beta+other'), 0)
    assert.equal(compareSemver('1.0.0-alpha+001', '1.0.0'), -1)
  })

  it('compares numbers beyond 2^53 exactly', () => {
    assert.equal(compareSemver('9007199254740993.0.0', '9007199254740992.0.0'), 1)
    assert.equal(compareSemver('1.0.0-99999999999999999999', '1.0.0-100000000000000000000'), -1)
  })

  it('ranks numeric prerelease identifiers below alphanumeric ones', () => {
    assert.equal(compareSemver('1.0.0-9', '1.0.0-0a'), -1)
    assert.equal(compareSemver('1.0.0-a-b', '1.0.0-a'), 1)
  })

  it('throws PROTOCOL_INVALID for strings that are not semantic versions', () => {
    for (const bad of [
      '1.0',
      '01.0.0',
      '1.0.0-01',
      '1.0.0-',
      '1.0.0+',
      'v1.0.0',
      ' 1.0.0',
      `1.0.0-${'a'.repeat(60)}`,
    ]) {
      assert.equal(isSemver(bad), false, bad)
      assert.throws(
        () => compareSemver(bad, '1.0.0'),
        (err: unknown) => err instanceof ProtocolError && err.code === 'PROTOCOL_INVALID',
        bad,
      )
    }
  })

  it('is antisymmetric and reflexive on generated versions', () => {
    const id = fc.oneof(
      fc.nat({ max: 20 }).map(String),
      fc.constantFrom('alpha', 'beta', 'rc', '0a', 'x-y'),
    )
    const version = fc
      .record({
        core: fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30)),
        pre: fc.array(id, { maxLength: 3 }),
      })
      .map(({ core, pre }) => core.join('.') + (pre.length > 0 ? `-${pre.join('.')}` : ''))
    fc.assert(
      fc.property(version, version, (a, b) => {
        assert.equal(compareSemver(a, a), 0)
        assert.equal(compareSemver(a, b), -compareSemver(b, a) || 0)
      }),
    )
  })
})
