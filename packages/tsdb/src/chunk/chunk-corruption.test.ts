import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { crc32 } from 'node:zlib'
import fc from 'fast-check'
import { ChunkError, decodeChunk, encodeChunk, readChunkHeader, type ChunkData } from './index.js'

function isCorrupt(err: unknown): boolean {
  return err instanceof ChunkError && err.code === 'TSDB_CHUNK_CORRUPT'
}

/** Decoding must fail with TSDB_CHUNK_CORRUPT and nothing else. */
function assertCorrupt(bytes: Uint8Array, what: string): void {
  for (const read of [decodeChunk, readChunkHeader]) {
    assert.throws(() => read(bytes), isCorrupt, `${read.name} accepted ${what}`)
  }
}

/** Either a clean decode or TSDB_CHUNK_CORRUPT: never another error, hang or crash. */
function decodeOrCorrupt(bytes: Uint8Array): void {
  try {
    decodeChunk(bytes)
  } catch (err) {
    if (!isCorrupt(err)) throw err
  }
}

function withCrc(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes)
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true)
  return out
}

const n = 40
const small: ChunkData[] = [
  {
    type: 'float',
    timestamps: Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 1000 + (i % 3)),
    values: Float64Array.from({ length: n }, (_, i) => (i === 7 ? NaN : 20 + (i % 5) / 100)),
  },
  {
    type: 'int',
    timestamps: Float64Array.from({ length: n }, (_, i) => -5000 + i * i),
    values: BigInt64Array.from({ length: n }, (_, i) => 1000n + BigInt(i * 3)),
  },
  {
    type: 'bool',
    timestamps: Float64Array.from({ length: n }, (_, i) => i * 60_000),
    values: Uint8Array.from({ length: n }, (_, i) => (i > 20 ? 1 : 0)),
  },
  {
    type: 'string',
    timestamps: Float64Array.from({ length: n }, (_, i) => i * 10),
    values: Array.from({ length: n }, (_, i) => (i % 9 === 0 ? 'fault' : 'ok')),
  },
]

function bigChunk(seed: number): Uint8Array {
  const count = 5000
  let x = seed
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  const timestamps = Float64Array.from(
    { length: count },
    (_, i) => i * 10_000 + Math.round(next() * 8),
  )
  const values = Float64Array.from({ length: count }, (_, i) =>
    next() < 0.01 ? next() : Math.round(2000 + Math.sin(i / 500) * 300 + next() * 10) / 100,
  )
  return encodeChunk({ type: 'float', timestamps, values })
}

describe('decodeChunk on damaged bytes', () => {
  for (const data of small) {
    const bytes = encodeChunk(data)

    it(`rejects every flipped byte of a small ${data.type} chunk`, () => {
      for (let i = 0; i < bytes.length; i++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const bad = Uint8Array.from(bytes)
          bad[i]! ^= mask
          assertCorrupt(bad, `byte ${String(i)} ^ ${String(mask)}`)
        }
      }
    })

    it(`rejects every truncation and extension of a small ${data.type} chunk`, () => {
      for (let len = 0; len < bytes.length; len++) {
        assertCorrupt(bytes.subarray(0, len), `truncation to ${String(len)} bytes`)
      }
      assertCorrupt(Uint8Array.of(...bytes, 0), 'an extra byte')
    })

    it(`never fails otherwise on a small ${data.type} chunk damaged behind a valid checksum`, () => {
      for (let i = 0; i < bytes.length - 4; i++) {
        for (const mask of [0x01, 0x10, 0x80, 0xff]) {
          const bad = Uint8Array.from(bytes)
          bad[i]! ^= mask
          decodeOrCorrupt(withCrc(bad))
        }
      }
    })
  }

  it('rejects random flips and truncations of bigger chunks', () => {
    const chunks = [1, 2, 3].map(bigChunk)
    fc.assert(
      fc.property(
        fc.constantFrom(...chunks),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, at, mask) => {
          const bad = Uint8Array.from(bytes)
          bad[at % bytes.length]! ^= mask
          assertCorrupt(bad, 'a flipped byte')
          assertCorrupt(bytes.subarray(0, at % bytes.length), 'a truncation')
        },
      ),
      { numRuns: 300 },
    )
  })

  it('never fails otherwise on random damage behind a valid checksum', () => {
    const chunks = [...[1, 2].map(bigChunk), ...small.map(encodeChunk)]
    fc.assert(
      fc.property(
        fc.constantFrom(...chunks),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(),
        (bytes, edits, cut) => {
          const bad = Uint8Array.from(bytes)
          for (const [at, v] of edits) bad[at % (bad.length - 4)] = v
          decodeOrCorrupt(withCrc(bad))
          const len = Math.max(4, cut % bytes.length)
          decodeOrCorrupt(withCrc(bad.subarray(0, len)))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('rejects a forged count over the limit without allocating for it', () => {
    const bytes = Uint8Array.from(encodeChunk(small[0]!))
    new DataView(bytes.buffer).setUint32(8, 0xffffffff, true)
    assert.throws(() => decodeChunk(withCrc(bytes)), isCorrupt)
  })

  it('names what failed', () => {
    const bytes = encodeChunk(small[0]!)
    assert.throws(() => decodeChunk(bytes.subarray(0, 20)), /shorter than a header and checksum/)
    const bad = Uint8Array.from(bytes)
    bad[40]! ^= 1
    assert.throws(() => decodeChunk(bad), /checksum mismatch/)
    bad[0] = 0
    assert.throws(() => decodeChunk(bad), /bad magic/)
  })
})
