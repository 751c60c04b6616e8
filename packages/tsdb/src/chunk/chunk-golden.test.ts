import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeChunk, encodeChunk, type ChunkData } from './index.js'

/**
 * Golden chunks of format version 1, one per encoding family. Decoding them must keep working
 * for as long as version 1 is readable; if an encoder change is meant to produce different
 * (smaller) bytes, add the new bytes as a new case and keep these for the decoder.
 */
function times(n: number, f: (i: number) => number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => f(i))
}

const cases: { name: string; data: ChunkData; hex: string }[] = [
  {
    name: 'float, ALP with NaN and -0 exceptions',
    data: {
      type: 'float',
      timestamps: times(300, (i) => 1_736_000_000_000 + i * 10_000 + ((i * 7) % 5) - 2),
      values: times(300, (i) =>
        i === 50
          ? NaN
          : i === 51
            ? -0
            : Math.round(2150 + 40 * Math.sin(i / 30) + ((i * 13) % 7)) / 100,
      ),
    },
    hex:
      '5354434b010001022c0100002f00000000e0ff9c1a4379420010fb761d43794233e70d010e200002006b5ad6' +
      'b5ad6b5ad6b5ad6b5ad6b5ad6b5ad6b5ad6b5ad6b5ad6b5ad6b5ad6b5ad6b5ad6b5ad0100000813880fff000' +
      '0000000001000000000000000061d361991a8444a0eeaa8c006f2b95f55cadae55b535b34de995d555afca9e' +
      '111e82074003b8019d0c0ce9818770303a60074c04e80878117aa2be556f32cecd36d556d55cdae55f572b9b' +
      '72b96dcab9b555b555ea69d596f2aaf9147c209d400f0601d0c03f8181fc3033a6019d030009ca15d0',
  },
  {
    name: 'int, large values stepping by small amounts, negative timestamps',
    data: {
      type: 'int',
      timestamps: times(200, (i) => -1_000_000 + i * 1000),
      values: BigInt64Array.from(
        { length: 200 },
        (_, i) => 9_000_000_000n + BigInt(i * 3 + (i % 4)),
      ),
    },
    hex:
      '5354434b01010101c8000000050000000000000080842ec100000000d07128c122fe800fc0613a3861c46801' +
      '8008000000000000000000000000210000002000180000000001bd2492492492492492492492492492492492' +
      '49c003753c7c',
  },
  {
    name: 'bool, run-length',
    data: {
      type: 'bool',
      timestamps: times(100, (i) => i * 60_000 + (i % 3)),
      values: Uint8Array.from({ length: 100 }, (_, i) => (i >= 40 && i < 70 ? 1 : 0)),
    },
    hex:
      '5354434b010201006400000015000000000000000000000000000000c8a85641347a9780428800801b6db6db' +
      '6db6db6db6db6db6d800000c133db6801180408e',
  },
  {
    name: 'string, dictionary and runs',
    data: {
      type: 'string',
      timestamps: times(80, (i) => 1_000 + i * i),
      values: Array.from({ length: 80 }, (_, i) =>
        i % 25 === 3 ? 'fault' : i === 60 ? 'état' : 'ok',
      ),
    },
    hex:
      '5354434b0103010050000000070000000000000000408f40000000000049bc4040e007e8001ee00000180cdd' +
      '6f6b6661756c74c3a97461740000588000049321f8061b6b692be080da2c1b',
  },
  {
    name: 'float, Gorilla XOR for non-decimal values',
    data: {
      type: 'float',
      timestamps: times(20, (i) => i * 1000),
      values: times(20, (i) => Math.sqrt(i + 2) * 1e-7),
    },
    hex:
      '5354434b010001011400000005000000000000000000000000000000008ed24022fe8007c03e82fb3367a054' +
      '74db8dc47b6733b073b32de8ba9a2f4b4f26a70559fd9c5d7a79cc8b2b44afa60d8b6a0128195433a6edcd76' +
      '0758db58d275bae050464d66104959a1bc95b739ba5cc17ea302ac36af9e1a04702f890d04b951ab58c40a07' +
      '0d122465dbcc32a4e8c6205b382f9073a8c5e711f4ef0722bfb7209c228e010cdb43439a36f17bd88187b856' +
      '9a1022bef7784e',
  },
]

function bits(values: Float64Array): bigint[] {
  return Array.from(new BigUint64Array(Float64Array.from(values).buffer))
}

describe('chunk format version 1 golden bytes', () => {
  for (const { name, data, hex } of cases) {
    it(`decodes ${name}`, () => {
      const back = decodeChunk(Buffer.from(hex, 'hex'))
      assert.equal(back.type, data.type)
      assert.deepEqual(bits(back.timestamps), bits(data.timestamps))
      if (data.values instanceof Float64Array && back.values instanceof Float64Array) {
        assert.deepEqual(bits(back.values), bits(data.values))
      } else {
        assert.deepEqual(back.values, data.values)
      }
    })

    it(`encodes ${name} to the same bytes`, () => {
      assert.equal(Buffer.from(encodeChunk(data)).toString('hex'), hex)
    })
  }
})
