import Type, { type Static } from 'typebox'

const strict = { additionalProperties: false } as const
const PerHour = Type.Number({ minimum: 0, maximum: 1e6 })

/** Injected anomalies of a float signal: spikes, level shifts and stuck values at a rate. */
export const SignalAnomalies = Type.Object(
  {
    /** Mean anomalies per device per hour (a Poisson process over the readings). */
    perHour: PerHour,
    /** Which kinds to draw from, equally likely; default all three. */
    kinds: Type.Optional(
      Type.Array(
        Type.Union([Type.Literal('spike'), Type.Literal('level-shift'), Type.Literal('stuck')]),
        { minItems: 1, maxItems: 3 },
      ),
    ),
    /** Size of a spike or level shift, in the signal's unit (sign drawn at random). */
    magnitude: Type.Number({ minimum: 0 }),
    /** How long a level shift or a stuck value lasts (a spike is one reading). */
    durationS: Type.Number({ exclusiveMinimum: 0, maximum: 30 * 86_400 }),
  },
  strict,
)
export type SignalAnomalies = Static<typeof SignalAnomalies>

/**
 * A sensor value: `base` (+ a per-device offset within ±`spread`) + a daily cycle + linear drift
 * (a per-device rate within ±`driftPerHour`) + Gaussian noise, clamped to `min`…`max` and rounded
 * to `decimals` (sensors report decimals in disguise: 21.53 °C, never 21.5300000001).
 */
export const FloatSignal = Type.Object(
  {
    type: Type.Literal('float'),
    base: Type.Number(),
    spread: Type.Optional(Type.Number({ minimum: 0 })),
    noise: Type.Optional(Type.Number({ minimum: 0 })),
    driftPerHour: Type.Optional(Type.Number({ minimum: 0 })),
    daily: Type.Optional(
      Type.Object(
        {
          amplitude: Type.Number({ minimum: 0 }),
          peakHour: Type.Number({ minimum: 0, maximum: 24 }),
        },
        strict,
      ),
    ),
    decimals: Type.Optional(Type.Integer({ minimum: 0, maximum: 6 })),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    anomalies: Type.Optional(SignalAnomalies),
  },
  strict,
)
export type FloatSignal = Static<typeof FloatSignal>

/** A monotonic counter (pulses, packets, litres) that grows by `ratePerS` on average. */
export const CounterSignal = Type.Object(
  {
    type: Type.Literal('counter'),
    ratePerS: Type.Number({ minimum: 0, maximum: 1e9 }),
    start: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 52 })),
  },
  strict,
)
export type CounterSignal = Static<typeof CounterSignal>

/** A two-state value (door, relay) that is true `trueShare` of the time and changes `changesPerHour`. */
export const BooleanSignal = Type.Object(
  {
    type: Type.Literal('boolean'),
    trueShare: Type.Number({ minimum: 0, maximum: 1 }),
    changesPerHour: PerHour,
  },
  strict,
)
export type BooleanSignal = Static<typeof BooleanSignal>

/** A short status string drawn from `values`, changing `changesPerHour`. */
export const EnumSignal = Type.Object(
  {
    type: Type.Literal('enum'),
    values: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 32 }),
    changesPerHour: PerHour,
  },
  strict,
)
export type EnumSignal = Static<typeof EnumSignal>

/**
 * One telemetry signal of a simulated device; its name is the metric name.
 *
 * @example
 * const signals: Record<string, Signal> = {
 *   temp: { type: 'float', base: 21, spread: 2, noise: 0.05, decimals: 2 },
 *   pulses: { type: 'counter', ratePerS: 0.5 },
 *   door: { type: 'boolean', trueShare: 0.1, changesPerHour: 2 },
 *   mode: { type: 'enum', values: ['eco', 'comfort'], changesPerHour: 0.2 },
 * }
 */
export const Signal = Type.Union([FloatSignal, CounterSignal, BooleanSignal, EnumSignal])
export type Signal = Static<typeof Signal>
