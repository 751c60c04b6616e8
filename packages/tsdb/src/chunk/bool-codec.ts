import type { BitReader } from './bit-reader.js'
import { BitWriter } from './bit-writer.js'
import { invalidChunkData } from './chunk-error.js'
import { readUints, writeUints } from './uint-coder.js'

/**
 * Bool encoding RLE: the first value (1 bit), the run count (21 bits), then each run length - 1
 * (uint-coder). A door that toggles once a day costs a dozen bits per toggle; one that alternates
 * on every event has all-zero run lengths, which cost almost nothing.
 */
export const BOOL_RLE = 0

const COUNT_BITS = 21

export function encodeBools(values: Uint8Array): { encoding: number; bytes: Uint8Array } {
  const n = values.length
  const runs: number[] = []
  let run = 0
  for (let i = 0; i < n; i++) {
    const v = values[i] ?? 0
    if (v > 1) throw invalidChunkData(`bool value ${String(v)} at index ${String(i)} is not 0/1`)
    if (i > 0 && v !== values[i - 1]) {
      runs.push(run - 1)
      run = 0
    }
    run++
  }
  runs.push(run - 1)
  const w = new BitWriter()
  w.write(values[0] ?? 0, 1)
  w.write(runs.length, COUNT_BITS)
  writeUints(w, runs)
  return { encoding: BOOL_RLE, bytes: w.finish() }
}

export function decodeBools(r: BitReader, encoding: number, out: Uint8Array): void {
  if (encoding !== BOOL_RLE) throw r.corrupt(`unknown bool encoding ${String(encoding)}`)
  const n = out.length
  let v = r.bit()
  const count = r.read(COUNT_BITS)
  if (count < 1 || count > n) throw r.corrupt(`${String(count)} runs for ${String(n)} values`)
  const runs = new Float64Array(count)
  readUints(r, runs)
  let i = 0
  for (let j = 0; j < count; j++) {
    const len = (runs[j] ?? 0) + 1
    if (len > n - i) throw r.corrupt(`run ${String(j)} overflows the ${String(n)} values`)
    out.fill(v, i, i + len)
    i += len
    v ^= 1
  }
  if (i !== n) throw r.corrupt(`runs cover ${String(i)} of ${String(n)} values`)
  r.checkEnd()
}
