import { decoder, isStrataError, namePattern } from '@strata/protocol'
import Type, { type Static } from 'typebox'
import { CloudError } from '../errors.js'

/** Defaults of a profile's limits, and what a device without a profile gets. */
export const defaultProfileLimits = {
  messagesPerSecond: 200,
  burst: 2_000,
  maxPayloadBytes: 262_144,
} as const

export const ProfileLimits = Type.Object(
  {
    messagesPerSecond: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        default: defaultProfileLimits.messagesPerSecond,
      }),
    ),
    burst: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: 'at least messagesPerSecond; default 2,000 (or messagesPerSecond if higher)',
      }),
    ),
    maxPayloadBytes: Type.Optional(
      Type.Integer({
        minimum: 64,
        maximum: 262_144,
        default: defaultProfileLimits.maxPayloadBytes,
      }),
    ),
  },
  { additionalProperties: false },
)

export const MetricDeclaration = Type.Object(
  {
    type: Type.Enum(['float', 'int', 'bool', 'string']),
    unit: Type.Optional(Type.String({ maxLength: 32 })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
)

/** What a kind of device sends and may send: its limits, sleep schedule and metrics. */
export const ProfileSpec = Type.Object(
  {
    limits: Type.Optional(ProfileLimits),
    sleepIntervalS: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 30 * 86_400,
        description: 'the device sleeps this long between connections (presence uses it)',
      }),
    ),
    metrics: Type.Optional(
      Type.Record(Type.String({ pattern: namePattern }), MetricDeclaration, {
        maxProperties: 1_000,
        additionalProperties: false,
        description: 'metric name → its declaration',
      }),
    ),
    strictMetrics: Type.Optional(
      Type.Boolean({ default: false, description: 'refuse telemetry with undeclared metrics' }),
    ),
  },
  { additionalProperties: false, title: 'ProfileSpec' },
)
export type ProfileSpec = Static<typeof ProfileSpec>

/** A profile's limits with every default filled in. */
export interface EffectiveLimits {
  readonly messagesPerSecond: number
  readonly burst: number
  readonly maxPayloadBytes: number
}

/**
 * The limits that apply under a spec (or under no profile): defaults for what it leaves out; the
 * burst is never below the rate.
 *
 * @example
 * profileLimitsOf({ limits: { messagesPerSecond: 5000 } }) // { 5000, burst: 5000, 262144 }
 */
export function profileLimitsOf(spec: ProfileSpec | undefined): EffectiveLimits {
  const l = spec?.limits ?? {}
  const messagesPerSecond = l.messagesPerSecond ?? defaultProfileLimits.messagesPerSecond
  return {
    messagesPerSecond,
    burst: Math.max(l.burst ?? defaultProfileLimits.burst, messagesPerSecond),
    maxPayloadBytes: l.maxPayloadBytes ?? defaultProfileLimits.maxPayloadBytes,
  }
}

const decodeSpec = decoder(ProfileSpec)

/**
 * Decodes a spec and fills in its defaults, so what is stored and shown is what applies. Throws
 * `CLOUD_INVALID` naming the first bad field (`spec/limits/burst`).
 */
export function checkSpec(value: unknown): ProfileSpec {
  let spec: ProfileSpec
  try {
    spec = decodeSpec(value, 'profile spec')
  } catch (err) {
    throw asInvalidField(err, 'spec')
  }
  const limits = spec.limits ?? {}
  const messagesPerSecond = limits.messagesPerSecond ?? defaultProfileLimits.messagesPerSecond
  if (limits.burst !== undefined && limits.burst < messagesPerSecond) {
    throw new CloudError(
      'CLOUD_INVALID',
      `profile spec/limits/burst ${String(limits.burst)} is below messagesPerSecond ${String(messagesPerSecond)}`,
      { details: { field: 'spec/limits/burst' } },
    )
  }
  return { ...spec, limits: profileLimitsOf(spec), strictMetrics: spec.strictMetrics ?? false }
}

/**
 * A decoder's `PROTOCOL_INVALID` as `CLOUD_INVALID` with `details.field` the first bad field's
 * path under `prefix` (`spec/limits/burst`); anything else unchanged.
 */
export function asInvalidField(err: unknown, prefix: string): unknown {
  if (!isStrataError(err) || err.code !== 'PROTOCOL_INVALID') return err
  const path = (err.details['violations'] as { path: string }[] | undefined)?.[0]?.path ?? ''
  return new CloudError('CLOUD_INVALID', err.message, {
    details: { field: `${prefix}${path}`.replace(/^\//, '') },
    cause: err,
  })
}
