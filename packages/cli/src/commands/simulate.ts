import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { createFleet, decodeSimProfile, defaultSimProfile, type SimProfile } from '@strata/device'
import { CliError } from '../errors.js'
import { connect, type RemoteFlags } from './api-client.js'
import { emit, group, progress, remoteVerb, type NodeVerbContext } from './api-output.js'
import { parseDuration } from './data-time.js'
import { intOption } from './int-option.js'
import { addSimulateFault } from './simulate-fault.js'
import { startControl } from './simulate-control.js'
import {
  anonymousFleetTarget,
  deviceIds,
  nodeFleetTarget,
  type FleetTarget,
  type IdentityMode,
} from './simulate-identities.js'
import { progressLine, summaryText } from './simulate-report.js'
import { waitForShutdownSignal } from './wait-for-signal.js'

interface RunFlags extends RemoteFlags {
  devices: number
  broker?: string
  identity?: Exclude<IdentityMode, 'none'>
  profile?: string
  prefix: string
  data: string
  duration?: number
  controlPort: number
  connectsPerSecond?: number
  seed?: number
  json?: boolean
}

const parseDevices = intOption(1, 100_000, 'expected a whole number of devices from 1 to 100000')
const parsePort = intOption(0, 65_535, 'expected a port from 0 to 65535')
const parseRate = intOption(1, 100_000, 'expected connects per second from 1 to 100000')
const parseSeed = intOption(0, 2 ** 31 - 1, 'expected a whole number from 0 to 2147483647')

function parsePrefix(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/.test(value))
    throw new InvalidArgumentError(
      'expected 1–41 of A–Z a–z 0–9 . _ : - starting with a letter or digit',
    )
  return value
}

/** Registers `strata simulate` (run a fleet) and `strata simulate fault` (inject one live). */
export function addSimulate(program: Command, ctx: NodeVerbContext): void {
  const simulate = group(
    program,
    'simulate',
    'run a fleet of simulated devices against a node or a broker, with faults on demand',
    ctx.out,
  )
  remoteVerb(ctx, simulate, 'run', { isDefault: true })
    .description(
      'run N simulated devices in this process until Ctrl-C (or --duration); `strata simulate --devices 1000` is the same',
    )
    .requiredOption('--devices <n>', 'how many devices', parseDevices)
    .option(
      '--broker <url>',
      'connect straight to this MQTT broker (mqtt:// or mqtts://) without a node: devices are anonymous',
    )
    .addOption(
      new Option('--identity <mode>', 'how devices prove who they are, with a node')
        .choices(['claim', 'token'])
        .default('claim'),
    )
    .option('--profile <file>', 'a behaviour profile (JSON, see docs/simulator.md)')
    .option('--prefix <prefix>', 'device ids are PREFIX0001, PREFIX0002, …', parsePrefix, 'sim-')
    .option(
      '--data <dir>',
      'keeps the devices’ identities (so a rerun reuses them) and the control file',
      'strata-sim',
    )
    .option('--duration <d>', 'stop after this long: 30s, 5m, 1h', parseDuration)
    .option(
      '--control-port <n>',
      'port of the live control on 127.0.0.1 (0 picks one)',
      parsePort,
      0,
    )
    .option('--connects-per-second <n>', 'ramp-up rate (default: the simulator’s)', parseRate)
    .option('--seed <n>', 'seed of the devices’ randomness, for a repeatable run', parseSeed)
    .action(async (opts: RunFlags) => {
      await runSimulation(ctx, opts)
    })
  addSimulateFault(ctx, simulate)
}

async function runSimulation(ctx: NodeVerbContext, opts: RunFlags): Promise<void> {
  const { out } = ctx
  const json = opts.json === true
  const profile = await readProfile(opts.profile)
  const dataDir = resolve(opts.data)
  const ids = deviceIds(opts.prefix, opts.devices)
  const bar = progress(out, json)
  let target: FleetTarget
  if (opts.broker !== undefined) {
    target = anonymousFleetTarget(opts.broker, ids)
  } else {
    const api = await connect(opts)
    const verb = opts.identity === 'token' ? 'registering' : 'provisioning'
    target = await nodeFleetTarget(api, opts.identity ?? 'claim', ids, dataDir, (done, total) => {
      bar.update(`${verb} devices ${String(done)}/${String(total)}`)
    })
    bar.done()
  }
  const fleet = createFleet({
    brokerUrl: target.brokerUrl,
    ...(target.caPem === undefined ? {} : { caPem: target.caPem }),
    identities: target.identities,
    profile,
    ...(opts.connectsPerSecond === undefined ? {} : { connectsPerSecond: opts.connectsPerSecond }),
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
  })
  const control = await startControl(fleet, dataDir, opts.controlPort)
  if (!json)
    out.stderr.write(
      `simulating ${String(ids.length)} devices against ${target.brokerUrl}` +
        (target.created > 0 ? ` (${String(target.created)} new)` : '') +
        `; live control at ${control.url} (strata simulate fault --help); Ctrl-C stops\n`,
    )
  fleet.start()
  const ticker = setInterval(() => {
    bar.update(progressLine(fleet.stats()))
  }, 500)
  try {
    await stopWhen(opts.duration)
  } finally {
    clearInterval(ticker)
    bar.done()
  }
  const stats = await fleet.close()
  await control.close()
  const summary = { brokerUrl: target.brokerUrl, created: target.created, ...stats }
  emit(out, json, summary, () => summaryText(stats))
}

async function readProfile(path: string | undefined): Promise<SimProfile> {
  if (path === undefined) return defaultSimProfile
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${path}: ${String(cause)}`, { cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `${path} is not JSON: ${String(cause)}`, {
      hint: 'A profile is a JSON file; see docs/simulator.md.',
      cause,
    })
  }
  return decodeSimProfile(json)
}

/** Resolves after `durationMs`, or at the first SIGINT/SIGTERM. */
async function stopWhen(durationMs: number | undefined): Promise<void> {
  if (durationMs === undefined) {
    await waitForShutdownSignal()
    return
  }
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    waitForShutdownSignal(),
    new Promise<void>((done) => {
      timer = setTimeout(done, durationMs)
    }),
  ])
  clearTimeout(timer)
}
