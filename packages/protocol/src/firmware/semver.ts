import Type from 'typebox'
import { ProtocolError } from '../errors/protocol-error.js'

/**
 * The regular expression semver.org recommends for Semantic Versioning 2.0.0
 * (https://semver.org/#is-there-a-suggested-regular-expression-regex-to-check-a-semver-string),
 * with capture groups: 1 major, 2 minor, 3 patch, 4 prerelease, 5 build metadata.
 */
export const semverPattern =
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)' +
  '(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?' +
  '(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$'

/** Longest version string Strata accepts; far more than any real release needs. */
export const maxSemverLength = 64

const semverRegExp = new RegExp(semverPattern)

/** A Semantic Versioning 2.0.0 string of at most 64 characters, such as `2.1.0-rc.1+build.7`. */
export const SemVer = Type.String({
  pattern: semverPattern,
  minLength: 5,
  maxLength: maxSemverLength,
})

/**
 * True when `version` is a valid Semantic Versioning 2.0.0 string of at most 64 characters.
 *
 * @example
 * isSemver('1.0.0-alpha.1') // true
 * isSemver('1.0') // false
 * isSemver('01.0.0') // false: no leading zeros
 */
export function isSemver(version: string): boolean {
  // Length first: the regular expression then only ever sees short input.
  return version.length <= maxSemverLength && semverRegExp.test(version)
}

interface ParsedSemver {
  readonly core: readonly [string, string, string]
  readonly prerelease: readonly string[]
}

function parseSemver(version: string, what: string): ParsedSemver {
  const m = version.length <= maxSemverLength ? semverRegExp.exec(version) : null
  if (m === null) {
    throw new ProtocolError(
      'PROTOCOL_INVALID',
      `${what} ${JSON.stringify(version.slice(0, 80))} is not a semantic version`,
      {
        hint: 'Use MAJOR.MINOR.PATCH with an optional -prerelease and +build (https://semver.org), at most 64 characters.',
      },
    )
  }
  const [, major = '', minor = '', patch = '', pre] = m
  return { core: [major, minor, patch], prerelease: pre === undefined ? [] : pre.split('.') }
}

/** Compares two digit strings without leading zeros as numbers of any size. */
function compareNumeric(a: string, b: string): -1 | 0 | 1 {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1
  return a === b ? 0 : a < b ? -1 : 1
}

const numericIdentifier = /^\d+$/

/** semver.org §11.4: compares two prerelease identifiers. */
function compareIdentifier(a: string, b: string): -1 | 0 | 1 {
  const aNumeric = numericIdentifier.test(a)
  const bNumeric = numericIdentifier.test(b)
  // §11.4.1 numerically; §11.4.3 numeric identifiers have lower precedence than alphanumeric ones.
  if (aNumeric && bNumeric) return compareNumeric(a, b)
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1
  // §11.4.2 lexically in ASCII sort order; identifiers are ASCII, so UTF-16 order is ASCII order.
  return a === b ? 0 : a < b ? -1 : 1
}

function comparePrerelease(a: readonly string[], b: readonly string[]): -1 | 0 | 1 {
  // §11.3 a version without prerelease has higher precedence than one with it.
  if (a.length === 0 || b.length === 0) {
    return a.length === b.length ? 0 : a.length === 0 ? 1 : -1
  }
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareIdentifier(a[i] ?? '', b[i] ?? '')
    if (c !== 0) return c
  }
  // §11.4.4 a larger set of identifiers has higher precedence when all preceding ones are equal.
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/**
 * Compares two versions by Semantic Versioning 2.0.0 precedence (§11): major, minor and patch
 * numerically, then prerelease identifiers; build metadata is ignored, so `1.0.0+a` and
 * `1.0.0+b` compare equal. Throws `PROTOCOL_INVALID` when either is not a semantic version.
 *
 * @example
 * compareSemver('1.0.0-alpha', '1.0.0') // -1
 * compareSemver('1.10.0', '1.9.0') // 1
 * compareSemver('1.0.0+build.1', '1.0.0') // 0
 */
export function compareSemver(a: string, b: string): -1 | 0 | 1 {
  const x = parseSemver(a, 'version')
  const y = parseSemver(b, 'version')
  for (let i = 0; i < 3; i++) {
    const c = compareNumeric(x.core[i] ?? '', y.core[i] ?? '')
    if (c !== 0) return c
  }
  return comparePrerelease(x.prerelease, y.prerelease)
}
