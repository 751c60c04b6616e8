/**
 * Deterministic generator of realistic sensor series for the tsdb benchmarks and the chunk
 * compression test. Same (kind, seed, count, startMs) → same series, on every machine.
 *
 * The parameters describe real devices, not the codec:
 *
 * Sampling (drawn per series)
 * - Timer-driven devices (every temperature, humidity, level and counter series; 70% of bool and
 *   status series) sample every P seconds, P ∈ {1, 2, 5, 10, 15, 30, 60} with weights
 *   {5, 5, 15, 30, 10, 15, 20}% (10 s and 60 s are the usual defaults of LoRaWAN/Zigbee/Modbus
 *   pollers). Samples sit on a fixed-rate schedule at a random phase; each timestamp carries
 *   Gaussian scheduling jitter σ = 2 ms (RTOS tick + radio/MQTT stack latency, rounded to ms);
 *   1% of samples are missed (radio loss), leaving a gap of one period.
 * - Event-driven devices (30% of bool and status series: door contacts, machine state changes)
 *   report on change with exponential inter-arrival times, mean drawn log-uniformly in
 *   [10 s, 10 min], rounded to ms.
 *
 * Values
 * - temperature (°C, float, 2 decimals): base 18–26 °C, daily sine of amplitude 0.5–4 °C (indoor
 *   to sheltered outdoor), a slow weather/HVAC random walk (σ 0.01 °C per minute), sensor noise
 *   σ 0.05 °C (typical of SHT3x/DS18B20 class sensors), quantised to the 0.01 °C resolution.
 * - humidity (%RH, float, 1 decimal): base 35–65 %, daily sine of 2–8 %, a random walk of
 *   σ 0.05 %RH per minute, noise σ 0.03 %, quantised to 0.1 and clamped to 0–100.
 * - level (tank level %, float, 1 decimal): fills and drains at 0.5–5 %/hour, switching direction
 *   at 10/90 % or after an exponential time (mean 6 h), noise σ 0.02 %, quantised to 0.1.
 * - counter (int): a monotonic pulse/event counter (energy meter impulses, packets, parts) starting
 *   anywhere in 0–10^7; increments per sample are Poisson with a rate drawn log-uniformly in
 *   0.01–10 per second.
 * - bool (door/relay, 0/1): timer-driven series report the current state of a two-state process
 *   with exponential dwell times (mean 1–8 h); event-driven series toggle on every report.
 * - status (string): one of ok / warning / fault / maintenance / offline; "ok" dwells for an
 *   exponential time of mean 2–12 h, other states for mean 20 min. Timer-driven series report the
 *   current state; event-driven series report each change.
 *
 * PRNG: sfc32 seeded through splitmix32 from (kind, seed); Gaussians by Box–Muller.
 */

export type SensorKind = 'temperature' | 'humidity' | 'level' | 'counter' | 'bool' | 'status'

/** A generated series, shaped like the tsdb chunk's ChunkData. */
export interface SensorSeries {
  kind: SensorKind
  type: 'float' | 'int' | 'bool' | 'string'
  timestamps: Float64Array
  values: Float64Array | BigInt64Array | Uint8Array | string[]
  /** The sampling period in ms, or the mean inter-arrival time for event-driven series. */
  periodMs: number
  eventDriven: boolean
}

export const sensorKinds: readonly SensorKind[] = [
  'temperature',
  'humidity',
  'level',
  'counter',
  'bool',
  'status',
]

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
const JITTER_MS = 2
const MISSED = 0.01
const EVENT_DRIVEN_SHARE = 0.3
const PERIODS_S = [1, 2, 5, 10, 15, 30, 60] as const
const PERIOD_WEIGHTS = [5, 5, 15, 30, 10, 15, 20] as const
const STATES = ['ok', 'warning', 'fault', 'maintenance', 'offline'] as const

interface Rng {
  next: () => number
  gauss: () => number
  exp: (mean: number) => number
  uniform: (lo: number, hi: number) => number
  logUniform: (lo: number, hi: number) => number
  poisson: (mean: number) => number
}

function splitmix32(state: number): () => number {
  let s = state >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

function createRng(kind: SensorKind, seed: number): Rng {
  let h = seed >>> 0
  for (const ch of kind) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0
  const init = splitmix32(h ^ Math.floor(seed / 4294967296))
  let a = init()
  let b = init()
  let c = init()
  let d = init()
  const next = (): number => {
    // sfc32 (Chris Doty-Humphrey's Small Fast Counting generator)
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t / 4294967296
  }
  for (let i = 0; i < 12; i++) next()
  const gauss = (): number => {
    const u = 1 - next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next())
  }
  const poisson = (mean: number): number => {
    if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss()))
    const limit = Math.exp(-mean)
    let k = 0
    let p = next()
    while (p > limit) {
      k++
      p *= next()
    }
    return k
  }
  return {
    next,
    gauss,
    poisson,
    exp: (mean) => -mean * Math.log(1 - next()),
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    logUniform: (lo, hi) => Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * next()),
  }
}

function pickPeriodMs(rng: Rng): number {
  let r = rng.next() * 100
  for (let i = 0; i < PERIODS_S.length; i++) {
    r -= PERIOD_WEIGHTS[i] ?? 0
    if (r < 0) return (PERIODS_S[i] ?? 10) * 1000
  }
  return 60_000
}

/** Fixed-rate schedule at a random phase, σ = 2 ms jitter, 1% of slots missed. */
function timerTimestamps(rng: Rng, count: number, startMs: number, periodMs: number): Float64Array {
  const ts = new Float64Array(count)
  const phase = Math.floor(rng.next() * periodMs)
  let slot = 0
  let prev = -Infinity
  for (let i = 0; i < count; slot++) {
    if (rng.next() < MISSED) continue
    const t = startMs + phase + slot * periodMs + Math.round(JITTER_MS * rng.gauss())
    if (t <= prev) continue
    ts[i++] = t
    prev = t
  }
  return ts
}

function eventTimestamps(rng: Rng, count: number, startMs: number, meanMs: number): Float64Array {
  const ts = new Float64Array(count)
  let t = startMs
  for (let i = 0; i < count; i++) {
    t += Math.max(1, Math.round(rng.exp(meanMs)))
    ts[i] = t
  }
  return ts
}

function quantise(v: number, decimals: number): number {
  const p = 10 ** decimals
  // Through a decimal string, like a device formatting its reading as JSON.
  return Number((Math.round(v * p) / p).toFixed(decimals))
}

function temperature(rng: Rng, ts: Float64Array): Float64Array {
  const base = rng.uniform(18, 26)
  const amplitude = rng.uniform(0.5, 4)
  const dayPhase = rng.uniform(0, 2 * Math.PI)
  const out = new Float64Array(ts.length)
  let walk = 0
  let prev = ts[0] ?? 0
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] ?? 0
    walk += 0.01 * Math.sqrt((t - prev) / 60_000) * rng.gauss()
    prev = t
    const daily = amplitude * Math.sin((2 * Math.PI * t) / DAY_MS + dayPhase)
    out[i] = quantise(base + daily + walk + 0.05 * rng.gauss(), 2)
  }
  return out
}

function humidity(rng: Rng, ts: Float64Array): Float64Array {
  const base = rng.uniform(35, 65)
  const amplitude = rng.uniform(2, 8)
  const dayPhase = rng.uniform(0, 2 * Math.PI)
  const out = new Float64Array(ts.length)
  let walk = 0
  let prev = ts[0] ?? 0
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] ?? 0
    walk += 0.05 * Math.sqrt((t - prev) / 60_000) * rng.gauss()
    prev = t
    const v = base + amplitude * Math.sin((2 * Math.PI * t) / DAY_MS + dayPhase) + walk
    out[i] = quantise(Math.min(100, Math.max(0, v + 0.03 * rng.gauss())), 1)
  }
  return out
}

function level(rng: Rng, ts: Float64Array): Float64Array {
  const out = new Float64Array(ts.length)
  let v = rng.uniform(20, 80)
  let ratePerMs = (rng.uniform(0.5, 5) / HOUR_MS) * (rng.next() < 0.5 ? -1 : 1)
  let switchAt = (ts[0] ?? 0) + rng.exp(6 * HOUR_MS)
  let prev = ts[0] ?? 0
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] ?? 0
    v += ratePerMs * (t - prev)
    prev = t
    if (t >= switchAt || (v > 90 && ratePerMs > 0) || (v < 10 && ratePerMs < 0)) {
      ratePerMs = (rng.uniform(0.5, 5) / HOUR_MS) * (ratePerMs > 0 ? -1 : 1)
      switchAt = t + rng.exp(6 * HOUR_MS)
    }
    out[i] = quantise(v + 0.02 * rng.gauss(), 1)
  }
  return out
}

function counter(rng: Rng, ts: Float64Array): BigInt64Array {
  const ratePerMs = rng.logUniform(0.01, 10) / 1000
  const out = new BigInt64Array(ts.length)
  let v = Math.floor(rng.next() * 1e7)
  let prev = ts[0] ?? 0
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] ?? 0
    v += rng.poisson(ratePerMs * (t - prev))
    prev = t
    out[i] = BigInt(v)
  }
  return out
}

/** The state at each timestamp of a process that leaves "ok" (0) for a random other state. */
function dwellStates(
  rng: Rng,
  ts: Float64Array,
  states: number,
  meanDwellMs: (state: number) => number,
): Uint8Array {
  const out = new Uint8Array(ts.length)
  let state = 0
  let until = (ts[0] ?? 0) + rng.exp(meanDwellMs(0))
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i] ?? 0
    while (t >= until) {
      state = state === 0 ? 1 + Math.floor(rng.next() * (states - 1)) : 0
      until += rng.exp(meanDwellMs(state))
    }
    out[i] = state
  }
  return out
}

function bools(rng: Rng, ts: Float64Array, eventDriven: boolean): Uint8Array {
  if (eventDriven) {
    const out = new Uint8Array(ts.length)
    const first = rng.next() < 0.5 ? 1 : 0
    for (let i = 0; i < ts.length; i++) out[i] = (i + first) % 2
    return out
  }
  const mean = rng.uniform(1, 8) * HOUR_MS
  let state = rng.next() < 0.5 ? 1 : 0
  let until = (ts[0] ?? 0) + rng.exp(mean)
  const out = new Uint8Array(ts.length)
  for (let i = 0; i < ts.length; i++) {
    while ((ts[i] ?? 0) >= until) {
      state ^= 1
      until += rng.exp(mean)
    }
    out[i] = state
  }
  return out
}

function statuses(rng: Rng, ts: Float64Array, eventDriven: boolean): string[] {
  const okMean = rng.uniform(2, 12) * HOUR_MS
  const codes = eventDriven
    ? Uint8Array.from(ts, (_, i) => (i % 2 === 0 ? 0 : 1 + Math.floor(rng.next() * 4)))
    : dwellStates(rng, ts, STATES.length, (s) => (s === 0 ? okMean : 20 * 60_000))
  return Array.from(codes, (c) => STATES[c] ?? 'ok')
}

/**
 * One series of `count` points of the given kind, starting at or after `startMs`.
 *
 * @example
 * const { type, timestamps, values } = generateSeries('temperature', 42, 8640, Date.UTC(2025, 0, 1))
 */
export function generateSeries(
  kind: SensorKind,
  seed: number,
  count: number,
  startMs: number,
): SensorSeries {
  const rng = createRng(kind, seed)
  const eventDriven = (kind === 'bool' || kind === 'status') && rng.next() < EVENT_DRIVEN_SHARE
  const periodMs = eventDriven ? Math.round(rng.logUniform(10_000, 600_000)) : pickPeriodMs(rng)
  const timestamps = eventDriven
    ? eventTimestamps(rng, count, startMs, periodMs)
    : timerTimestamps(rng, count, startMs, periodMs)
  const common = { kind, timestamps, periodMs, eventDriven }
  switch (kind) {
    case 'temperature':
      return { ...common, type: 'float', values: temperature(rng, timestamps) }
    case 'humidity':
      return { ...common, type: 'float', values: humidity(rng, timestamps) }
    case 'level':
      return { ...common, type: 'float', values: level(rng, timestamps) }
    case 'counter':
      return { ...common, type: 'int', values: counter(rng, timestamps) }
    case 'bool':
      return { ...common, type: 'bool', values: bools(rng, timestamps, eventDriven) }
    case 'status':
      return { ...common, type: 'string', values: statuses(rng, timestamps, eventDriven) }
  }
}

/** The share of each kind in a plausible building/industrial fleet. */
export const fleetShares: Readonly<Record<SensorKind, number>> = {
  temperature: 0.4,
  humidity: 0.1,
  level: 0.1,
  counter: 0.2,
  bool: 0.1,
  status: 0.1,
}

/**
 * Kinds for `seriesCount` series in the fleetShares mix (largest-remainder rounding), spread
 * evenly so any prefix is close to the mix too. Deterministic.
 *
 * @example
 * fleetMix(200).map((kind, i) => generateSeries(kind, i, 8640, start))
 */
export function fleetMix(seriesCount: number): SensorKind[] {
  const out: SensorKind[] = []
  const given = new Map<SensorKind, number>(sensorKinds.map((k) => [k, 0]))
  for (let i = 0; i < seriesCount; i++) {
    // Give slot i to the kind furthest below its share of the first i + 1 slots.
    let best: SensorKind = 'temperature'
    let bestDeficit = -Infinity
    for (const kind of sensorKinds) {
      const deficit = fleetShares[kind] * (i + 1) - (given.get(kind) ?? 0)
      if (deficit > bestDeficit + 1e-9) {
        bestDeficit = deficit
        best = kind
      }
    }
    given.set(best, (given.get(best) ?? 0) + 1)
    out.push(best)
  }
  return out
}
