import type { Prng } from './prng.js'
import type { FloatSignal, Signal } from './signal-schema.js'

/** A value a signal yields: what telemetry carries. */
export type SignalValue = number | boolean | string

const hourMs = 3_600_000
const dayMs = 24 * hourMs

/** Anomaly kinds, as stored in a device's state slot. */
const anomalyNone = 0
const anomalyShift = 1
const anomalyStuck = 2
const allKinds = ['spike', 'level-shift', 'stuck'] as const

/**
 * The signals of a profile, compiled once per fleet. A device's own part (offsets, drift rates,
 * counters, current states, running anomalies) is one Float64Array of `slots` numbers, so a
 * device with three signals carries about a hundred bytes of signal state.
 *
 * Layout: slot 0 is the time of the last reading; then per signal, float: offset, drift rate,
 * anomaly kind, anomaly end, anomaly value; counter: value; boolean: 0/1; enum: index.
 *
 * @example
 * const plan = new SignalPlan([['temp', { type: 'float', base: 21, noise: 0.1, decimals: 2 }]], 0)
 * const state = plan.init(rng)
 * plan.sample(rng, state, Date.now()) // { temp: 21.07 }
 */
export class SignalPlan {
  readonly names: readonly string[]
  readonly signals: readonly Signal[]
  readonly #offsets: readonly number[]
  readonly slots: number
  /** Drift counts from here: the fleet's start, so a seed gives the same values in every run. */
  epochMs: number

  constructor(signals: readonly (readonly [string, Signal])[], epochMs: number) {
    this.names = signals.map(([name]) => name)
    this.signals = signals.map(([, signal]) => signal)
    const offsets: number[] = []
    let slot = 1
    for (const signal of this.signals) {
      offsets.push(slot)
      slot += signal.type === 'float' ? 5 : 1
    }
    this.#offsets = offsets
    this.slots = slot
    this.epochMs = epochMs
  }

  /** A device's signal state: its per-device offsets and drift drawn from `rng`. */
  init(rng: Prng): Float64Array {
    const state = new Float64Array(this.slots)
    state[0] = Number.NaN
    this.signals.forEach((signal, i) => {
      const at = this.#offsets[i] as number
      switch (signal.type) {
        case 'float':
          state[at] = (signal.spread ?? 0) * rng.signed()
          state[at + 1] = (signal.driftPerHour ?? 0) * rng.signed()
          break
        case 'counter':
          state[at] = signal.start ?? 0
          break
        case 'boolean':
          state[at] = rng.chance(signal.trueShare) ? 1 : 0
          break
        case 'enum':
          state[at] = rng.int(signal.values.length)
          break
      }
    })
    return state
  }

  /**
   * The readings at `t` (epoch ms, after the previous reading of this state), into `out`. Random
   * draws come from `rng` in a fixed order, so the same seed and times give the same values.
   */
  sample(
    rng: Prng,
    state: Float64Array,
    t: number,
    out: Record<string, SignalValue> = {},
  ): Record<string, SignalValue> {
    const last = state[0] as number
    const dtMs = Number.isNaN(last) ? 0 : Math.max(0, t - last)
    state[0] = t
    const dtHours = dtMs / hourMs
    for (let i = 0; i < this.signals.length; i++) {
      const signal = this.signals[i] as Signal
      const at = this.#offsets[i] as number
      const name = this.names[i] as string
      switch (signal.type) {
        case 'float':
          out[name] = this.#float(signal, rng, state, at, t, dtHours)
          break
        case 'counter': {
          const value =
            (state[at] as number) + Math.floor(signal.ratePerS * (dtMs / 1000) + rng.next())
          state[at] = value
          out[name] = value
          break
        }
        case 'boolean':
          if (changes(rng, signal.changesPerHour, dtHours))
            state[at] = rng.chance(signal.trueShare) ? 1 : 0
          out[name] = state[at] === 1
          break
        case 'enum':
          if (changes(rng, signal.changesPerHour, dtHours))
            state[at] = rng.int(signal.values.length)
          out[name] = signal.values[state[at] as number] as string
          break
      }
    }
    return out
  }

  #float(
    s: FloatSignal,
    rng: Prng,
    state: Float64Array,
    at: number,
    t: number,
    dtHours: number,
  ): number {
    let v =
      s.base + (state[at] as number) + (state[at + 1] as number) * ((t - this.epochMs) / hourMs)
    if (s.daily !== undefined) {
      const hourOfDay = (((t % dayMs) + dayMs) % dayMs) / hourMs
      v += s.daily.amplitude * Math.cos((2 * Math.PI * (hourOfDay - s.daily.peakHour)) / 24)
    }
    // Always drawn, stuck or not, so one signal's anomaly never shifts another's noise.
    const noise = rng.normal()
    v += (s.noise ?? 0) * noise
    const a = s.anomalies
    if (a !== undefined) {
      if (state[at + 2] !== anomalyNone && t >= (state[at + 3] as number))
        state[at + 2] = anomalyNone
      if (state[at + 2] === anomalyNone && changes(rng, a.perHour, dtHours)) {
        const kinds = a.kinds ?? allKinds
        const kind = kinds[rng.int(kinds.length)]
        const sign = rng.chance(0.5) ? 1 : -1
        if (kind === 'spike') v += sign * a.magnitude
        else {
          state[at + 2] = kind === 'level-shift' ? anomalyShift : anomalyStuck
          state[at + 3] = t + a.durationS * 1000
          state[at + 4] = kind === 'level-shift' ? sign * a.magnitude : v
        }
      }
      if (state[at + 2] === anomalyShift) v += state[at + 4] as number
      else if (state[at + 2] === anomalyStuck) v = state[at + 4] as number
    }
    if (s.min !== undefined && v < s.min) v = s.min
    if (s.max !== undefined && v > s.max) v = s.max
    return roundTo(v, s.decimals ?? 2)
  }
}

/** True when an event of `perHour` rate happens within `dtHours` (Poisson: 1 − e^(−λt)). */
function changes(rng: Prng, perHour: number, dtHours: number): boolean {
  if (perHour <= 0 || dtHours <= 0) return false
  return rng.chance(1 - Math.exp(-perHour * dtHours))
}

/** `v` rounded to `decimals` places, as a sensor's fixed-point value printed back as a number. */
export function roundTo(v: number, decimals: number): number {
  const scale = 10 ** decimals
  const rounded = Math.round(v * scale) / scale
  return Object.is(rounded, -0) ? 0 : rounded
}
