import type { BitReader } from './bit-reader.js'
import type { BitWriter } from './bit-writer.js'

/**
 * Gorilla XOR coding of 64-bit words given as high/low 32-bit halves (Pelkonen et al., "Gorilla:
 * A Fast, Scalable, In-Memory Time Series Database", VLDB 2015, §4.1.2). The first value is 64
 * raw bits; then per value: `0` when equal to the previous one; `10` + the meaningful bits when
 * the XOR fits the previous leading/trailing window; `11` + leading zeros (5 bits, at most 31)
 * + meaningful length - 1 (6 bits) + the meaningful bits otherwise.
 */
function clz64(hi: number, lo: number): number {
  return hi === 0 ? 32 + Math.clz32(lo) : Math.clz32(hi)
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x)
}

function ctz64(hi: number, lo: number): number {
  return lo === 0 ? 32 + ctz32(hi) : ctz32(lo)
}

/** Writes bits [shift, shift + len) of the 64-bit (hi, lo). */
function writeSlice(w: BitWriter, hi: number, lo: number, shift: number, len: number): void {
  let h: number
  let l: number
  if (shift >= 32) {
    h = 0
    l = hi >>> (shift - 32)
  } else if (shift === 0) {
    h = hi
    l = lo
  } else {
    h = hi >>> shift
    l = ((lo >>> shift) | (hi << (32 - shift))) >>> 0
  }
  if (len > 32) {
    w.write(h, len - 32)
    w.write(l, 32)
  } else {
    w.write(len === 32 ? l : l & ((1 << len) - 1), len)
  }
}

export function writeXor(w: BitWriter, hi: Uint32Array, lo: Uint32Array): void {
  const n = hi.length
  if (n === 0) return
  let ph = hi[0] ?? 0
  let pl = lo[0] ?? 0
  w.writeFloatBits(ph, pl)
  let lead = -1
  let trail = 0
  for (let i = 1; i < n; i++) {
    const h = hi[i] ?? 0
    const l = lo[i] ?? 0
    const xh = (h ^ ph) >>> 0
    const xl = (l ^ pl) >>> 0
    ph = h
    pl = l
    if (xh === 0 && xl === 0) {
      w.write(0, 1)
      continue
    }
    const lz = Math.min(31, clz64(xh, xl))
    const tz = ctz64(xh, xl)
    if (lead >= 0 && lz >= lead && tz >= trail) {
      w.write(2, 2)
      writeSlice(w, xh, xl, trail, 64 - lead - trail)
    } else {
      lead = lz
      trail = tz
      const len = 64 - lz - tz
      w.write(3, 2)
      w.write(lz, 5)
      w.write(len - 1, 6)
      writeSlice(w, xh, xl, tz, len)
    }
  }
}

export function readXor(r: BitReader, hi: Uint32Array, lo: Uint32Array): void {
  const n = hi.length
  if (n === 0) return
  let ph = r.read(32)
  let pl = r.read(32)
  hi[0] = ph
  lo[0] = pl
  let lead = -1
  let trail = 0
  for (let i = 1; i < n; i++) {
    if (r.bit() === 1) {
      if (r.bit() === 1) {
        lead = r.read(5)
        trail = 64 - lead - (r.read(6) + 1)
        if (trail < 0) throw r.corrupt(`XOR window of ${String(64 - lead - trail)} bits`)
      } else if (lead < 0) {
        throw r.corrupt('XOR window reused before one was set')
      }
      const len = 64 - lead - trail
      let h = len > 32 ? r.read(len - 32) : 0
      let l = r.read(Math.min(32, len))
      if (trail >= 32) {
        h = l << (trail - 32)
        l = 0
      } else if (trail > 0) {
        h = (h << trail) | (l >>> (32 - trail))
        l = l << trail
      }
      ph = (ph ^ h) >>> 0
      pl = (pl ^ l) >>> 0
    }
    hi[i] = ph
    lo[i] = pl
    if ((i & 127) === 0) r.check()
  }
  r.check()
}
