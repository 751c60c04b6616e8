import Type, { type Static, type TSchema } from 'typebox'
import { namePattern } from '@strata/protocol'
import { FaultTarget, SimFault } from './sim-fault.js'
import { Signal } from './signal-schema.js'

const strict = { additionalProperties: false } as const
const Seconds = Type.Number({ exclusiveMinimum: 0, maximum: 30 * 86_400 })
const NonNegativeSeconds = Type.Number({ minimum: 0, maximum: 30 * 86_400 })

/**
 * The profile schema, with the schemas of a signal and a fault passed in: the public
 * {@link SimProfile} has the full unions; `decodeSimProfile` first checks the frame with
 * `{type}`/`{kind}` placeholders and then each signal and fault on its own, so an error names
 * the one field that is wrong instead of every branch of a union.
 */
export function profileSchema<S extends TSchema, F extends TSchema>(signal: S, fault: F) {
  return Type.Object(
    {
      /** A label for logs and reports. */
      name: Type.Optional(Type.String({ maxLength: 128 })),
      /** Seconds between telemetry messages (default 10). A twin `reportEveryS` overrides it. */
      reportEveryS: Type.Optional(Type.Number({ minimum: 0.05, maximum: 86_400 })),
      /** Readings per message, spaced evenly over the period (default 1). */
      readingsPerMessage: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
      /** Payload encoding (default json). */
      format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('cbor')])),
      /** QoS of telemetry (default 1); everything else goes at QoS 1. */
      qos: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)])),
      /** Records carry the device's time stamp `ts` (default true); false sends bare maps. */
      timestamps: Type.Optional(Type.Boolean()),
      /** Metric name → signal (default: temp, humidity, door). */
      signals: Type.Optional(
        Type.Record(Type.String({ pattern: namePattern }), signal, {
          ...strict,
          minProperties: 1,
          maxProperties: 999,
        }),
      ),
      /** MQTT protocol settings. */
      keepAliveS: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
      sessionExpiryS: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
      connectTimeoutS: Type.Optional(Seconds),
      /** Reconnect backoff (shared `backoffDelayMs`: exponential, capped, equal jitter). */
      reconnect: Type.Optional(
        Type.Object(
          {
            initialMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
            maxMs: Type.Integer({ minimum: 1, maximum: 86_400_000 }),
            factor: Type.Number({ minimum: 1, maximum: 10 }),
          },
          strict,
        ),
      ),
      /** Sleep cycles: connect, report for `awakeS`, clean DISCONNECT, sleep `sleepS`, wake. */
      sleep: Type.Optional(Type.Object({ awakeS: Seconds, sleepS: Seconds }, strict)),
      /** A battery that drains; an empty device powers off for good. */
      battery: Type.Optional(
        Type.Object(
          {
            capacityMah: Type.Number({ exclusiveMinimum: 0 }),
            perMessageMah: Type.Optional(Type.Number({ minimum: 0 })),
            awakeMahPerS: Type.Optional(Type.Number({ minimum: 0 })),
            sleepMahPerS: Type.Optional(Type.Number({ minimum: 0 })),
            /** Also send the charge left (0–100 %) as this metric. */
            reportAs: Type.Optional(Type.String({ pattern: namePattern })),
          },
          strict,
        ),
      ),
      /** Each device's clock is off by a fixed amount drawn from ±clockSkewMs (default 0). */
      clockSkewMs: Type.Optional(Type.Number({ minimum: 0, maximum: 1e10 })),
      /** Readings a device keeps in RAM while offline, oldest dropped first (default 100). */
      offlineBufferRecords: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
      /** The firmware the devices run and how an update behaves. */
      firmware: Type.Optional(
        Type.Object(
          {
            version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            securityVersion: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
            imageBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 40 })),
            maxTrialBoots: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            downloadS: Type.Optional(NonNegativeSeconds),
            confirmAfterS: Type.Optional(NonNegativeSeconds),
            confirmDeadlineS: Type.Optional(Seconds),
            acceptOffers: Type.Optional(Type.Boolean()),
          },
          strict,
        ),
      ),
      /** Seconds a rebooting device is off (default 2). */
      rebootS: Type.Optional(NonNegativeSeconds),
      /** Seconds a device stays off after a power loss (default 10). */
      powerOffS: Type.Optional(NonNegativeSeconds),
      /** A microcontroller's RAM and flash: what does not fit is refused and counted. */
      budget: Type.Optional(
        Type.Object(
          {
            ramBytes: Type.Integer({ minimum: 1, maximum: 2 ** 40 }),
            flashBytes: Type.Integer({ minimum: 1, maximum: 2 ** 44 }),
          },
          strict,
        ),
      ),
      /** Faults injected at a time after start. */
      faults: Type.Optional(
        Type.Array(
          Type.Object(
            { atS: NonNegativeSeconds, fault, target: Type.Optional(FaultTarget) },
            strict,
          ),
          { maxItems: 1_000 },
        ),
      ),
    },
    strict,
  )
}

/**
 * How every simulated device of a fleet behaves: what it measures and sends, how it sleeps,
 * its battery, firmware and RAM/flash budget, and scripted faults. Every field is optional;
 * docs/simulator.md lists the defaults.
 *
 * @example
 * const profile: SimProfile = {
 *   reportEveryS: 30,
 *   signals: { temp: { type: 'float', base: 21, noise: 0.05, decimals: 2 } },
 *   sleep: { awakeS: 10, sleepS: 300 },
 * }
 */
export const SimProfile = profileSchema(Signal, SimFault)
export type SimProfile = Static<typeof SimProfile>
