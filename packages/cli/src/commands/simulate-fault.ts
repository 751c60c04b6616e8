import { resolve } from 'node:path'
import { Argument, InvalidArgumentError, type Command } from 'commander'
import { emit, type NodeVerbContext } from './api-output.js'
import { parseDuration } from './data-time.js'
import { intOption } from './int-option.js'
import { callControl, controlOf } from './simulate-control.js'

interface FaultFlags {
  data: string
  controlUrl?: string
  controlToken?: string
  share?: number
  count?: number
  device?: string[]
  duration?: number
  ms?: number
  times?: number
  probability?: number
  version?: string
  securityVersion?: number
  confirm: boolean
  json?: boolean
}

const faultKinds = [
  'partition',
  'drop',
  'delay',
  'clock-skew',
  'power-loss',
  'corrupt',
  'reboot-loop',
  'firmware',
] as const

function parseShare(value: string): number {
  const share = Number(value)
  if (value.trim() === '' || !(share > 0 && share <= 1))
    throw new InvalidArgumentError('expected a share of the fleet, more than 0 and at most 1')
  return share
}

function parseSignedMs(value: string): number {
  const ms = Number(value)
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError('expected whole milliseconds')
  return ms
}

const parseCount = intOption(1, 100_000, 'expected a whole number from 1 to 100000')
const parseSecurityVersion = intOption(0, 2 ** 32 - 1, 'expected a whole number ≥ 0')

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** The fault as the simulator's `SimFault` schema spells it; the simulator validates it. */
function faultOf(kind: (typeof faultKinds)[number], f: FaultFlags): Record<string, unknown> {
  const durationS = f.duration === undefined ? undefined : f.duration / 1000
  const withDuration = (rest: Record<string, unknown>) => ({
    kind,
    ...rest,
    ...(durationS === undefined ? {} : { durationS }),
  })
  switch (kind) {
    case 'partition':
      return withDuration({})
    case 'delay':
      return withDuration({ ms: f.ms })
    case 'corrupt':
      return withDuration({ share: f.probability ?? 1 })
    case 'clock-skew':
      return { kind, ms: f.ms }
    case 'reboot-loop':
      return { kind, count: f.times ?? 3 }
    case 'firmware':
      return {
        kind,
        version: f.version,
        securityVersion: f.securityVersion,
        confirms: f.confirm,
      }
    case 'power-loss':
      return { kind, ...(durationS === undefined ? {} : { offS: durationS }) }
    case 'drop':
      return { kind }
  }
}

/** Registers `strata simulate fault KIND …`: injects a fault into a running simulation. */
export function addSimulateFault(ctx: NodeVerbContext, simulate: Command): void {
  const { out } = ctx
  ctx
    .subcommand(simulate, 'fault', out)
    .description('inject a fault into a running `strata simulate`, now')
    .addArgument(new Argument('<kind>', 'what goes wrong').choices(faultKinds))
    .option('--data <dir>', 'the running simulator’s --data folder', 'strata-sim')
    .option('--control-url <url>', 'its control URL (default: from DATA/control.json)')
    .option('--control-token <token>', 'its control token (default: from DATA/control.json)')
    .option('--share <s>', 'the share of the fleet it hits, e.g. 0.1 (default: all)', parseShare)
    .option('--count <n>', 'how many devices it hits', parseCount)
    .option('--device <id>', 'a device it hits (repeatable)', collect)
    .option(
      '--duration <d>',
      'how long it lasts: partition, delay, corrupt; power-loss: how long the device stays off',
      parseDuration,
    )
    .option('--probability <p>', 'corrupt: the share of payloads corrupted (default 1)', parseShare)
    .option(
      '--ms <n>',
      'delay: extra latency; clock-skew: the offset (may be negative)',
      parseSignedMs,
    )
    .option('--times <n>', 'reboot-loop: how many reboots in a row (default 3)', parseCount)
    .option('--version <semver>', 'firmware: the new image’s version')
    .option('--security-version <n>', 'firmware: its security version', parseSecurityVersion)
    .option('--no-confirm', 'firmware: the image never confirms itself, so the bootloader reverts')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  strata simulate fault partition --share 0.2 --duration 30s',
        '  strata simulate fault delay --ms 800 --duration 1m',
        '  strata simulate fault firmware --version 1.1.0 --security-version 2 --no-confirm --count 5',
      ].join('\n'),
    )
    .action(async (kind: (typeof faultKinds)[number], f: FaultFlags) => {
      const control = await controlOf(resolve(f.data), f)
      const target = {
        ...(f.share === undefined ? {} : { share: f.share }),
        ...(f.count === undefined ? {} : { count: f.count }),
        ...(f.device === undefined ? {} : { devices: f.device }),
      }
      const reply = await callControl<{ affected: number }>(control, 'POST', '/faults', {
        fault: faultOf(kind, f),
        ...(Object.keys(target).length === 0 ? {} : { target }),
      })
      emit(out, f.json, reply, () => `${kind}: ${String(reply.affected)} devices affected`)
    })
}
