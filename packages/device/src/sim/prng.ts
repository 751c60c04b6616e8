/**
 * A small seeded PRNG (mulberry32: 32 bits of state, passes BigCrush's practical subset, and is
 * one object of one number per device). Same seed, same sequence, on every platform.
 *
 * @example
 * const rng = new Prng(42)
 * rng.next() // always the same first value for seed 42
 */
export class Prng {
  state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Uniform in [−1, 1). */
  signed(): number {
    return this.next() * 2 - 1
  }

  /** Standard normal (Box–Muller; one of the pair is dropped to keep the state one number). */
  normal(): number {
    const u = 1 - this.next() // (0, 1]: log(0) would be −∞
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }
}

/**
 * Derives the seed of item `index` from a fleet seed (splitmix32-style mixing), so device 7 gets
 * the same sequence whatever the fleet size.
 *
 * @example
 * new Prng(deriveSeed(42, 7))
 */
export function deriveSeed(seed: number, index: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0
  return (z ^ (z >>> 15)) >>> 0
}
