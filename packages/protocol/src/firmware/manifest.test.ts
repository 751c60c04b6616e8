import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ProtocolError } from '../errors/protocol-error.js'
import {
  decodeSignedManifestCbor,
  decodeSignedManifestJson,
  encodeSignedManifestCbor,
  encodeSignedManifestJson,
} from './envelope.js'
import { generateSigningKey } from './keys.js'
import { validateManifest, type FirmwareManifest } from './manifest.js'
import { signManifest } from './sign-manifest.js'
import { verifyManifest } from './verify-manifest.js'

const key = generateSigningKey()
const policy = { trustedKeys: [key.publicKey], now: 0 }
const base: FirmwareManifest = {
  schemaVersion: 1,
  product: 'acme-sensor',
  version: '1.4.2',
  securityVersion: 2,
  hardware: ['rev-a'],
  image: { sha256: '12'.repeat(32), size: 1024 },
  issuedAt: 1_700_000_000_000,
}

function isManifestInvalid(err: unknown): boolean {
  return (
    err instanceof ProtocolError &&
    err.code === 'PROTOCOL_MANIFEST_INVALID' &&
    err.hint !== undefined
  )
}

describe('validateManifest', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['schemaVersion 2', { schemaVersion: 2 }],
    ['an extra field', { channel: 'beta' }],
    ['an empty product', { product: '' }],
    ['a product with a slash', { product: 'acme/sensor' }],
    ['a product of 65 characters', { product: 'p'.repeat(65) }],
    ['a version that is not semver', { version: '1.4' }],
    ['a version with a leading v', { version: 'v1.4.2' }],
    ['a version over 64 characters', { version: `1.0.0-${'a'.repeat(59)}` }],
    ['a negative securityVersion', { securityVersion: -1 }],
    ['a fractional securityVersion', { securityVersion: 1.5 }],
    ['a securityVersion of 2^32', { securityVersion: 2 ** 32 }],
    ['no hardware', { hardware: [] }],
    ['duplicate hardware', { hardware: ['rev-a', 'rev-a'] }],
    ['65 hardware ids', { hardware: Array.from({ length: 65 }, (_, i) => `rev-${String(i)}`) }],
    ['a hardware id with a space', { hardware: ['rev a'] }],
    ['an upper-case image hash', { image: { sha256: 'AB'.repeat(32), size: 1 } }],
    ['a short image hash', { image: { sha256: 'ab', size: 1 } }],
    ['an empty image', { image: { sha256: '12'.repeat(32), size: 0 } }],
    ['an image over 1 TiB', { image: { sha256: '12'.repeat(32), size: 2 ** 40 + 1 } }],
    ['an extra image field', { image: { sha256: '12'.repeat(32), size: 1, url: 'x' } }],
    [
      'a delta without a base hash',
      { delta: { baseVersion: '1.4.1', sha256: '12'.repeat(32), size: 1 } },
    ],
    [
      'a delta with a bad base version',
      {
        delta: {
          baseVersion: 'latest',
          baseSha256: '34'.repeat(32),
          sha256: '12'.repeat(32),
          size: 1,
        },
      },
    ],
    ['a string issuedAt', { issuedAt: '2024-01-01' }],
    ['expiresAt before issuedAt', { expiresAt: 1_600_000_000_000 }],
    ['notes over 4096 characters', { notes: 'n'.repeat(4097) }],
    ['notes with a lone surrogate', { notes: 'bad \ud800 text' }],
    ['an undefined optional field', { expiresAt: undefined }],
  ]
  for (const [name, change] of bad) {
    it(`rejects ${name} with PROTOCOL_MANIFEST_INVALID, also when signing`, () => {
      const manifest = { ...base, ...change } as FirmwareManifest
      if (name !== 'an undefined optional field') {
        assert.throws(() => validateManifest(manifest), isManifestInvalid)
      }
      assert.throws(() => signManifest(manifest, [key]), isManifestInvalid)
    })
  }

  it('accepts the largest values and every optional field', () => {
    const full: FirmwareManifest = {
      ...base,
      securityVersion: 2 ** 32 - 1,
      hardware: Array.from({ length: 64 }, (_, i) => `rev-${String(i)}`),
      image: { sha256: '12'.repeat(32), size: 2 ** 40 },
      delta: {
        baseVersion: '1.4.1',
        baseSha256: '34'.repeat(32),
        sha256: '56'.repeat(32),
        size: 10,
      },
      expiresAt: 8_640_000_000_000_000,
      notes: 'n'.repeat(4096),
    }
    assert.deepEqual(verifyManifest(signManifest(full, [key]), policy), full)
  })

  it('signs notes NFC-normalised, as dCBOR requires', () => {
    const signed = signManifest({ ...base, notes: 'cafe\u0301' }, [key])
    assert.equal(verifyManifest(signed, policy).notes, 'caf\u00e9')
  })
})

/** Plain objects only: fast-check otherwise mixes in null-prototype ones, which deepEqual tells apart. */
const plain = { noNullPrototype: true } as const
const hex32 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('hex'))
const size = fc.oneof(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.constant(2 ** 40))
const identifier = fc.oneof(
  fc.nat(9999).map(String),
  fc.stringMatching(/^[0-9]{0,2}[a-zA-Z-][0-9a-zA-Z-]{0,5}$/),
)
const semver = fc
  .record(
    {
      core: fc.tuple(fc.nat(999), fc.nat(999), fc.nat(999)),
      pre: fc.array(identifier, { maxLength: 3 }),
      build: fc.array(fc.stringMatching(/^[0-9a-zA-Z-]{1,6}$/), { maxLength: 2 }),
    },
    plain,
  )
  .map(
    ({ core, pre, build }) =>
      core.join('.') +
      (pre.length > 0 ? `-${pre.join('.')}` : '') +
      (build.length > 0 ? `+${build.join('.')}` : ''),
  )
  .filter((v) => v.length <= 64)
const arbitraryManifest: fc.Arbitrary<FirmwareManifest> = fc
  .record(
    {
      product: fc.stringMatching(/^[A-Za-z0-9-][A-Za-z0-9._-]{0,63}$/),
      version: semver,
      securityVersion: fc
        .tuple(fc.nat(0xffff), fc.nat(0xffff))
        .map(([hi, lo]) => hi * 0x10000 + lo),
      hardware: fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/), {
        minLength: 1,
        maxLength: 6,
      }),
      image: fc.record({ sha256: hex32, size }, plain),
      delta: fc.record({ baseVersion: semver, baseSha256: hex32, sha256: hex32, size }, plain),
      issuedAt: fc.nat().map((s) => s * 1000),
      ttlMs: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      notes: fc.string({ unit: 'binary', maxLength: 40 }),
    },
    {
      ...plain,
      requiredKeys: ['product', 'version', 'securityVersion', 'hardware', 'image', 'issuedAt'],
    },
  )
  .map(({ ttlMs, ...m }) => ({
    schemaVersion: 1 as const,
    ...m,
    ...(ttlMs === undefined ? {} : { expiresAt: m.issuedAt + ttlMs }),
  }))

describe('signed manifest property', () => {
  it('round-trips arbitrary valid manifests through sign, both wire forms and verify', () => {
    fc.assert(
      fc.property(arbitraryManifest, (manifest) => {
        const expected =
          manifest.notes === undefined
            ? manifest
            : { ...manifest, notes: manifest.notes.normalize('NFC') }
        const signed = signManifest(manifest, [key])
        const now = manifest.issuedAt
        assert.deepEqual(
          verifyManifest(decodeSignedManifestJson(encodeSignedManifestJson(signed)), {
            ...policy,
            now,
          }),
          expected,
        )
        assert.deepEqual(
          verifyManifest(decodeSignedManifestCbor(encodeSignedManifestCbor(signed)), {
            ...policy,
            now,
          }),
          expected,
        )
      }),
      { numRuns: 150 },
    )
  })
})
