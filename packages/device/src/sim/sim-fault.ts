import Type, { type Static } from 'typebox'
import { decoder, isStrataError, type Decoder } from '@strata/protocol'
import { DeviceError } from '../errors.js'

const strict = { additionalProperties: false } as const
/** A duration of a fault: more than 0, at most 30 days. */
const DurationS = Type.Number({ exclusiveMinimum: 0, maximum: 30 * 86_400 })

const faultBranches = {
  partition: Type.Object(
    { kind: Type.Literal('partition'), durationS: Type.Optional(DurationS) },
    strict,
  ),
  drop: Type.Object({ kind: Type.Literal('drop') }, strict),
  delay: Type.Object(
    {
      kind: Type.Literal('delay'),
      ms: Type.Number({ minimum: 0, maximum: 600_000 }),
      durationS: Type.Optional(DurationS),
    },
    strict,
  ),
  'clock-skew': Type.Object(
    { kind: Type.Literal('clock-skew'), ms: Type.Number({ minimum: -1e10, maximum: 1e10 }) },
    strict,
  ),
  'power-loss': Type.Object(
    {
      kind: Type.Literal('power-loss'),
      offS: Type.Optional(Type.Number({ minimum: 0, maximum: 30 * 86_400 })),
    },
    strict,
  ),
  corrupt: Type.Object(
    {
      kind: Type.Literal('corrupt'),
      share: Type.Number({ minimum: 0, maximum: 1 }),
      durationS: Type.Optional(DurationS),
    },
    strict,
  ),
  'reboot-loop': Type.Object(
    { kind: Type.Literal('reboot-loop'), count: Type.Integer({ minimum: 1, maximum: 1_000 }) },
    strict,
  ),
  firmware: Type.Object(
    {
      kind: Type.Literal('firmware'),
      version: Type.String({ minLength: 1, maxLength: 64 }),
      securityVersion: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 }),
      confirms: Type.Boolean(),
      imageBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 2 ** 40 })),
    },
    strict,
  ),
} as const

/** The kinds of fault the simulator injects. */
export type SimFaultKind = keyof typeof faultBranches
/**
 * Every fault kind, for help texts and CLI choices.
 *
 * @example
 * simFaultKinds.includes('partition') // true
 */
export const simFaultKinds = Object.keys(faultBranches) as SimFaultKind[]

/**
 * A fault to inject into simulated devices (docs/simulator.md, "Faults"):
 * - `partition {durationS}`: the link drops and refuses to connect for `durationS` (default 30);
 * - `drop`: the link drops now without DISCONNECT; the device reconnects with backoff;
 * - `delay {ms, durationS}`: every write waits `ms` more for `durationS` (default 60);
 * - `clock-skew {ms}`: the device clock runs `ms` off in the time stamps it sends;
 * - `power-loss {offS}`: off mid-write: RAM (offline buffer, in-flight messages) is lost, a
 *   firmware step not yet written is torn, and the device boots again after `offS`;
 * - `corrupt {share, durationS}`: that share of telemetry payloads gets a corrupted byte;
 * - `reboot-loop {count}`: the device reboots `count` times in a row before it runs normally;
 * - `firmware {version, securityVersion, confirms}`: install into the inactive slot, trial-boot,
 *   then confirm (or miss the deadline, and the bootloader reverts on the next boot).
 *
 * @example
 * fleet.inject({ kind: 'partition', durationS: 30 }, { share: 0.2 })
 * fleet.inject({ kind: 'firmware', version: '1.1.0', securityVersion: 2, confirms: false })
 */
export const SimFault = Type.Union([
  faultBranches.partition,
  faultBranches.drop,
  faultBranches.delay,
  faultBranches['clock-skew'],
  faultBranches['power-loss'],
  faultBranches.corrupt,
  faultBranches['reboot-loop'],
  faultBranches.firmware,
])
export type SimFault = Static<typeof SimFault>

/**
 * Which devices a fault hits: the named ones (unknown ids are skipped), then `count` of them or a
 * `share` of them chosen with the fleet's seeded PRNG; without a target, every device.
 *
 * @example
 * fleet.inject({ kind: 'drop' }, { devices: ['pump-7', 'pump-9'] })
 * fleet.inject({ kind: 'power-loss' }, { count: 5 })
 */
export const FaultTarget = Type.Object(
  {
    share: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    count: Type.Optional(Type.Integer({ minimum: 1 })),
    devices: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100_000 })),
  },
  strict,
)
export interface FaultTarget {
  readonly share?: number
  readonly count?: number
  readonly devices?: readonly string[]
}

const branchDecoders = Object.fromEntries(
  Object.entries(faultBranches).map(([kind, schema]) => [kind, decoder(schema)]),
) as Record<SimFaultKind, Decoder<unknown>>
const decodeTarget = decoder(FaultTarget)

function invalid(message: string, cause?: unknown): DeviceError {
  return new DeviceError('DEVICE_FAULT_INVALID', message, {
    hint: 'Spell the fault as docs/simulator.md shows, e.g. {"kind": "partition", "durationS": 30}.',
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * Checks a fault from JSON. The error (DEVICE_FAULT_INVALID) names the bad field by its JSON
 * pointer under `at` (e.g. `/faults/2/fault/durationS`).
 *
 * @example
 * decodeSimFault({ kind: 'partition', durationS: 20 }) // ok
 * decodeSimFault({ kind: 'delay' }) // throws: fault: (root) must have required properties ms
 */
export function decodeSimFault(json: unknown, at = ''): SimFault {
  const kind =
    typeof json === 'object' && json !== null ? (json as { kind?: unknown }).kind : undefined
  if (typeof kind !== 'string' || !Object.hasOwn(faultBranches, kind)) {
    throw invalid(
      `fault: ${at}/kind must be one of ${simFaultKinds.join(', ')}, not ${kind === undefined ? 'missing' : JSON.stringify(kind)}`,
    )
  }
  try {
    return branchDecoders[kind as SimFaultKind](json, 'fault') as SimFault
  } catch (err) {
    throw rebase(err, at, invalid)
  }
}

/**
 * Checks a fault target from JSON (DEVICE_FAULT_INVALID naming the field).
 *
 * @example
 * decodeFaultTarget({ share: 0.1 }) // ok
 * decodeFaultTarget({ count: 0 }) // throws: target: /count must be >= 1
 */
export function decodeFaultTarget(json: unknown, at = ''): FaultTarget {
  try {
    return decodeTarget(json, 'target')
  } catch (err) {
    throw rebase(err, at, invalid)
  }
}

/**
 * Turns a PROTOCOL_INVALID from a decoder into the device error `make` builds, with every JSON
 * pointer in the message moved under `at`.
 */
export function rebase(
  err: unknown,
  at: string,
  make: (message: string, cause: unknown) => DeviceError,
): unknown {
  if (!isStrataError(err) || err.code !== 'PROTOCOL_INVALID') return err
  const message =
    at === ''
      ? err.message
      : err.message.replace(
          /(^|: |; )(\/|\(root\))/g,
          (_m, lead: string, slash: string) => `${lead}${at}${slash === '/' ? '/' : ''}`,
        )
  return make(message, err)
}
