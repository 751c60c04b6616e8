import type { HuffmanPlan } from './huffman.js'
import type { PairPlan } from './pair-huffman.js'
import { bestRice } from './rice.js'

/**
 * The block layer of the integer coder (uint-coder.ts documents the layout): plan types, block
 * modes and the Rice-or-SPARSE choice for one block, shared by both planners (uint-plan.ts for
 * wide values, uint-plan-int.ts for values of up to 31 bits).
 */
export const BLOCK_SIZES = [128, 1024] as const
export const SHORT = 128
export const LONG = 1024
export const HUFFMAN = 2
export const PAIRS = 3
export const PAIR_TABLE_BITS = 206
export const MODE_BITS = 6
export const MODE_ZERO = 62
export const MODE_SPARSE = 63
export const KR_BITS = 4
const MAX_KR = 15

/** How one block is written. */
export interface BlockPlan {
  mode: number
  bits: number
  kr: number
  kv: number
  /** SPARSE: zero runs and the following non-zero values - 1, interleaved. */
  pairs: Float64Array | undefined
}

/** How a stream is written: Rice blocks (sizeIndex 0, 1), HUFFMAN or PAIRS. */
export interface StreamPlan {
  sizeIndex: number
  bits: number
  blocks: BlockPlan[]
  huffman?: HuffmanPlan
  pairs?: PairPlan
}

export function zeroBlock(): BlockPlan {
  return { mode: MODE_ZERO, bits: MODE_BITS, kr: 0, kv: 0, pairs: undefined }
}

function planSparse(
  values: Float64Array | Int32Array,
  start: number,
  end: number,
  zeros: number,
): BlockPlan {
  const nonzeroCount = end - start - zeros
  const runs = new Float64Array(nonzeroCount + 1)
  const nonzero = new Float64Array(nonzeroCount)
  let r = 0
  let run = 0
  for (let i = start; i < end; i++) {
    const v = values[i] ?? 0
    if (v === 0) {
      run++
    } else {
      runs[r] = run
      nonzero[r++] = v - 1
      run = 0
    }
  }
  const runCount = run > 0 ? r + 1 : r
  if (run > 0) runs[r] = run
  const [kr, runBits] = bestRice(runs, 0, runCount)
  const [kv, valueBits] = bestRice(nonzero, 0, r)
  const pairs = new Float64Array(runCount + r)
  for (let j = 0, p = 0; j < runCount; j++) {
    pairs[p++] = runs[j] ?? 0
    if (j < r) pairs[p++] = nonzero[j] ?? 0
  }
  const fits = kr <= MAX_KR
  const bits = fits ? MODE_BITS + KR_BITS + MODE_BITS + runBits + valueBits : Infinity
  return { mode: MODE_SPARSE, bits, kr, kv, pairs }
}

/** The smaller of Rice with parameter k (costing riceBits) and SPARSE for a block with zeros. */
export function riceOrSparse(
  values: Float64Array | Int32Array,
  start: number,
  end: number,
  zeros: number,
  k: number,
  riceBits: number,
): BlockPlan {
  const rice = { mode: k, bits: MODE_BITS + riceBits, kr: 0, kv: 0, pairs: undefined }
  if (zeros * 2 < end - start) return rice
  const sparse = planSparse(values, start, end, zeros)
  return sparse.bits < rice.bits ? sparse : rice
}
