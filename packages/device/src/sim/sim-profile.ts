import Type from 'typebox'
import { decoder, isSemver } from '@strata/protocol'
import { DeviceError } from '../errors.js'
import { defaultBackoffOptions, type BackoffOptions } from '../shared/backoff.js'
import { decodeSimFault, rebase, type FaultTarget, type SimFault } from './sim-fault.js'
import { profileSchema, type SimProfile } from './sim-profile-schema.js'
import {
  BooleanSignal,
  CounterSignal,
  EnumSignal,
  FloatSignal,
  type Signal,
} from './signal-schema.js'

/** Keys a bare telemetry map may not use (docs/protocol.md §5.1). */
const reservedNames = new Set(['ts', 'values', 'tags'])

/**
 * What `strata simulate` runs without a profile: a mains-powered room sensor reporting every
 * 10 s a temperature (0.01 °C, daily cycle, drift, rare anomalies), a humidity (0.1 %) and a door.
 *
 * @example
 * createFleet({ brokerUrl, identities, profile: { ...defaultSimProfile, reportEveryS: 60 } })
 */
export const defaultSimProfile: SimProfile = {
  name: 'room-sensor',
  reportEveryS: 10,
  readingsPerMessage: 1,
  format: 'json',
  qos: 1,
  timestamps: true,
  signals: {
    temp: {
      type: 'float',
      base: 21,
      spread: 2,
      noise: 0.05,
      driftPerHour: 0.01,
      daily: { amplitude: 1.5, peakHour: 15 },
      decimals: 2,
      anomalies: { perHour: 0.02, magnitude: 6, durationS: 120 },
    },
    humidity: { type: 'float', base: 45, spread: 8, noise: 0.3, decimals: 1, min: 0, max: 100 },
    door: { type: 'boolean', trueShare: 0.1, changesPerHour: 2 },
  },
  keepAliveS: 60,
  sessionExpiryS: 86_400,
  connectTimeoutS: 10,
  reconnect: { ...defaultBackoffOptions },
  clockSkewMs: 0,
  offlineBufferRecords: 100,
  firmware: {
    version: '1.0.0',
    securityVersion: 1,
    imageBytes: 1_048_576,
    maxTrialBoots: 3,
    downloadS: 5,
    confirmAfterS: 5,
    confirmDeadlineS: 60,
    acceptOffers: true,
  },
  rebootS: 2,
  powerOffS: 10,
  faults: [],
}

/** A profile with every default filled in, as the engine uses it. */
export interface ResolvedProfile {
  readonly name: string
  readonly reportEveryMs: number
  readonly readingsPerMessage: number
  readonly format: 'json' | 'cbor'
  readonly qos: 0 | 1
  readonly timestamps: boolean
  readonly signals: readonly (readonly [string, Signal])[]
  readonly keepAliveS: number
  readonly sessionExpiryS: number
  readonly connectTimeoutMs: number
  readonly reconnect: BackoffOptions
  readonly sleep: { readonly awakeMs: number; readonly sleepMs: number } | undefined
  readonly battery:
    | {
        readonly capacityMah: number
        readonly perMessageMah: number
        readonly awakeMahPerS: number
        readonly sleepMahPerS: number
        readonly reportAs: string | undefined
      }
    | undefined
  readonly clockSkewMs: number
  readonly offlineBufferRecords: number
  readonly firmware: {
    readonly version: string
    readonly securityVersion: number
    readonly imageBytes: number
    readonly maxTrialBoots: number
    readonly downloadMs: number
    readonly confirmAfterMs: number
    readonly confirmDeadlineMs: number
    readonly acceptOffers: boolean
  }
  readonly rebootMs: number
  readonly powerOffMs: number
  readonly budget: { readonly ramBytes: number; readonly flashBytes: number } | undefined
  readonly faults: readonly {
    readonly atMs: number
    readonly fault: SimFault
    readonly target?: FaultTarget
  }[]
}

const frame = decoder(
  profileSchema(Type.Object({ type: Type.String() }), Type.Object({ kind: Type.String() })),
)
const signalDecoders = {
  float: decoder(FloatSignal),
  counter: decoder(CounterSignal),
  boolean: decoder(BooleanSignal),
  enum: decoder(EnumSignal),
} as const

function invalid(message: string, cause?: unknown): DeviceError {
  return new DeviceError('DEVICE_PROFILE_INVALID', message, {
    hint: 'Fix the field the message names; docs/simulator.md describes every profile field.',
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * Checks a simulator profile from JSON and fills in the defaults. Throws DEVICE_PROFILE_INVALID
 * with a message naming the bad field by its JSON pointer (`profile: /signals/temp/noise must
 * be >= 0`).
 *
 * @example
 * const profile = decodeSimProfile(JSON.parse(await readFile('sleepy-sensors.json', 'utf8')))
 */
export function decodeSimProfile(json: unknown): SimProfile {
  let shape: SimProfile
  try {
    shape = frame(json, 'profile') as SimProfile
  } catch (err) {
    throw rebase(err, '', invalid)
  }
  const signals: Record<string, Signal> = {}
  for (const [name, raw] of Object.entries(shape.signals ?? {})) {
    signals[name] = decodeSignal(name, raw)
  }
  const faults = (shape.faults ?? []).map((f, i) => ({
    ...f,
    fault: decodeFault(f.fault, `/faults/${String(i)}/fault`),
  }))
  const profile: SimProfile = {
    ...defaultSimProfile,
    ...shape,
    signals: shape.signals === undefined ? (defaultSimProfile.signals ?? {}) : signals,
    reconnect: shape.reconnect ?? { ...defaultBackoffOptions },
    firmware: { ...defaultSimProfile.firmware, ...shape.firmware },
    faults,
  }
  if (shape.sleep !== undefined && shape.sessionExpiryS === undefined) {
    // A sleeping device's session must outlive its sleep, or what the cloud sent meanwhile is lost.
    const cycleS = Math.ceil(shape.sleep.sleepS + shape.sleep.awakeS)
    profile.sessionExpiryS = Math.max(defaultSimProfile.sessionExpiryS ?? 0, 2 * cycleS)
  }
  checkProfile(profile)
  return profile
}

function decodeSignal(name: string, raw: Signal): Signal {
  const at = `/signals/${name}`
  if (reservedNames.has(name))
    throw invalid(
      `profile: ${at} is named ${name}, which telemetry records reserve; choose another name`,
    )
  const type = raw.type as string
  if (!Object.hasOwn(signalDecoders, type)) {
    throw invalid(
      `profile: ${at}/type must be float, counter, boolean or enum, not ${JSON.stringify(type)}`,
    )
  }
  try {
    return signalDecoders[type as keyof typeof signalDecoders](raw, 'profile')
  } catch (err) {
    throw rebase(err, at, invalid)
  }
}

function decodeFault(raw: unknown, at: string): SimFault {
  try {
    return decodeSimFault(raw, at)
  } catch (err) {
    if (err instanceof DeviceError) throw invalid(err.message.replace(/^fault: /, 'profile: '), err)
    throw err
  }
}

/** Rules the schema cannot say: ranges that depend on each other. */
function checkProfile(p: SimProfile): void {
  for (const [name, s] of Object.entries(p.signals ?? {})) {
    if (s.type === 'float' && s.min !== undefined && s.max !== undefined && s.min > s.max)
      throw invalid(
        `profile: /signals/${name}/min ${String(s.min)} is above /signals/${name}/max ${String(s.max)}`,
      )
  }
  if (p.battery?.reportAs !== undefined && p.signals?.[p.battery.reportAs] !== undefined)
    throw invalid(`profile: /battery/reportAs ${p.battery.reportAs} is also the name of a signal`)
  if (p.reconnect !== undefined && p.reconnect.maxMs < p.reconnect.initialMs)
    throw invalid('profile: /reconnect/maxMs is below /reconnect/initialMs')
  const version = p.firmware?.version
  if (version !== undefined && !isSemver(version))
    throw invalid(`profile: /firmware/version ${JSON.stringify(version)} is not a semantic version`)
  if (p.sleep !== undefined && p.sessionExpiryS !== undefined && p.sessionExpiryS <= p.sleep.sleepS)
    throw invalid(
      `profile: /sessionExpiryS ${String(p.sessionExpiryS)} must be longer than /sleep/sleepS ${String(p.sleep.sleepS)}: the session would expire while the device sleeps`,
    )
}

/** Fills in every default; the engine works on the result. */
export function resolveProfile(p: SimProfile): ResolvedProfile {
  const d = defaultSimProfile
  const fw = { ...d.firmware, ...p.firmware }
  const battery = p.battery
  return {
    name: p.name ?? 'profile',
    reportEveryMs: (p.reportEveryS ?? d.reportEveryS ?? 10) * 1000,
    readingsPerMessage: p.readingsPerMessage ?? 1,
    format: p.format ?? 'json',
    qos: p.qos ?? 1,
    timestamps: p.timestamps ?? true,
    signals: Object.entries(p.signals ?? d.signals ?? {}),
    keepAliveS: p.keepAliveS ?? d.keepAliveS ?? 60,
    sessionExpiryS: p.sessionExpiryS ?? d.sessionExpiryS ?? 86_400,
    connectTimeoutMs: (p.connectTimeoutS ?? d.connectTimeoutS ?? 10) * 1000,
    reconnect: p.reconnect ?? defaultBackoffOptions,
    sleep:
      p.sleep === undefined
        ? undefined
        : { awakeMs: p.sleep.awakeS * 1000, sleepMs: p.sleep.sleepS * 1000 },
    battery:
      battery === undefined
        ? undefined
        : {
            capacityMah: battery.capacityMah,
            perMessageMah: battery.perMessageMah ?? 0,
            awakeMahPerS: battery.awakeMahPerS ?? 0,
            sleepMahPerS: battery.sleepMahPerS ?? 0,
            reportAs: battery.reportAs,
          },
    clockSkewMs: p.clockSkewMs ?? 0,
    offlineBufferRecords: p.offlineBufferRecords ?? 100,
    firmware: {
      version: fw.version ?? '1.0.0',
      securityVersion: fw.securityVersion ?? 1,
      imageBytes: fw.imageBytes ?? 1_048_576,
      maxTrialBoots: fw.maxTrialBoots ?? 3,
      downloadMs: (fw.downloadS ?? 5) * 1000,
      confirmAfterMs: (fw.confirmAfterS ?? 5) * 1000,
      confirmDeadlineMs: (fw.confirmDeadlineS ?? 60) * 1000,
      acceptOffers: fw.acceptOffers ?? true,
    },
    rebootMs: (p.rebootS ?? 2) * 1000,
    powerOffMs: (p.powerOffS ?? 10) * 1000,
    budget: p.budget,
    faults: (p.faults ?? [])
      .map((f) => ({
        atMs: f.atS * 1000,
        fault: f.fault,
        ...(f.target === undefined ? {} : { target: f.target }),
      }))
      .sort((a, b) => a.atMs - b.atMs),
  }
}
