import { planHuffman } from './huffman.js'
import { planPairs } from './pair-huffman.js'
import { bestRiceOf } from './rice.js'
import {
  BLOCK_SIZES,
  HUFFMAN,
  PAIR_TABLE_BITS,
  PAIRS,
  riceOrSparse,
  SHORT,
  zeroBlock,
  type BlockPlan,
  type StreamPlan,
} from './uint-blocks.js'
import { planStreamInt } from './uint-plan-int.js'
import { intScratch } from './uint-stats.js'

/**
 * Planning for the integer coder (uint-coder.ts documents the layout): the exact size of the
 * smallest way to code a stream. Streams whose values all fit in 31 bits go to
 * uint-plan-int.ts; this file holds the general planner for wider values.
 */
const INT_LIMIT = 2147483647

function planBlock(values: Float64Array, start: number, end: number): BlockPlan {
  let zeros = 0
  let sum = 0
  let max = 0
  for (let i = start; i < end; i++) {
    const v = values[i] ?? 0
    if (v === 0) zeros++
    sum += v
    if (v > max) max = v
  }
  if (zeros === end - start) return zeroBlock()
  const [k, riceBits] = bestRiceOf(values, start, end, sum, max)
  return riceOrSparse(values, start, end, zeros, k, riceBits)
}

/** The general planner, for streams with values of 31 bits or more. */
function planStreamFloat(values: Float64Array, start: number, end: number): StreamPlan {
  const n = end - start
  let best: StreamPlan = { sizeIndex: 0, bits: Infinity, blocks: [] }
  for (let sizeIndex = 0; sizeIndex < BLOCK_SIZES.length; sizeIndex++) {
    const size = BLOCK_SIZES[sizeIndex] ?? SHORT
    const plans: BlockPlan[] = []
    let bits = 0
    for (let b = start; b < end && bits < best.bits; b += size) {
      const plan = planBlock(values, b, Math.min(end, b + size))
      plans.push(plan)
      bits += plan.bits
    }
    if (bits < best.bits) best = { sizeIndex, bits, blocks: plans }
    if (n <= size) break
  }
  // A Huffman code costs at least a bit a value, a pair code half a bit and its table.
  const h = best.bits > n ? planHuffman(values, start, end) : undefined
  if (h !== undefined && h.bits < best.bits) {
    best = { sizeIndex: HUFFMAN, bits: h.bits, blocks: [], huffman: h }
  }
  const p = best.bits > n / 2 + PAIR_TABLE_BITS ? planPairs(values, start, end) : undefined
  if (p !== undefined && p.bits < best.bits) {
    best = { sizeIndex: PAIRS, bits: p.bits, blocks: [], pairs: p }
  }
  return best
}

/** Plans values[start..end) (unsigned integers below 2^53). */
export function planStream(values: Float64Array, start: number, end: number): StreamPlan {
  const n = end - start
  const ints = intScratch(n)
  for (let i = 0; i < n; i++) {
    const v = values[start + i] ?? 0
    if (v > INT_LIMIT) return planStreamFloat(values, start, end)
    ints[i] = v
  }
  // One zero of padding lets the pair histogram read past an odd last value.
  ints[n] = 0
  return planStreamInt(ints, n)
}
