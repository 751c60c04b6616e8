// `npm run bench -- fleet [--quick] [options]`
// Memory per simulated device: N devices of our fleet simulator (createFleet, a thin MQTT client
// on mqtt-packet) against N bare MQTT.js clients doing the same work — one QoS 1 telemetry
// message per period each, the same keep-alive, persistent sessions — each side in its own child
// process against a fresh broker of ours. Progress on stderr; the BRIEF §4 JSON as the last line
// on stdout.
import { parseArgs } from 'node:util'
import { BrokerSupervisor, brokerVersion } from '../broker/brokers.js'
import { readOpenFilesLimit } from '../broker/cpu.js'
import { ChildSet } from '../ingest/children.js'
import { buildReport, formatTable } from './report.js'
import { runSide, startChild, type SideFigures, type SidePlan } from './side.js'

const usage = `usage: npm run bench -- fleet [options]
  --quick            2,000 devices per side, a 4 s period, an 8 s window (< 60 s)
  --devices N        devices per side (default 10,000)
  --period-s P       seconds between one device's messages (default 10; quick 4)
  --window-s W       seconds of counting reports, a multiple of P (default 30; quick 8)
  --cps C            connections opened per second during the ramp (default 1,000; quick 2,000)
  --only S           ours or peer: run one side (no ratio)
  --help             this text`

/** Descriptors the child needs besides one per device (stdio, IPC, the loader, the counter…). */
const spareDescriptors = 200

interface Options {
  readonly devices: number
  readonly periodS: number
  readonly windowS: number
  readonly cps: number
  readonly settleS: number
  readonly only: 'ours' | 'peer' | undefined
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      devices: { type: 'string' },
      'period-s': { type: 'string' },
      'window-s': { type: 'string' },
      cps: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return null
  const quick = values.quick
  const num = (name: string, text: string | undefined, fallback: number): number => {
    const n = text === undefined ? fallback : Number(text)
    if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a positive number`)
    return n
  }
  const only = values.only
  if (only !== undefined && only !== 'ours' && only !== 'peer')
    throw new Error('--only must be ours or peer')
  const periodS = num('period-s', values['period-s'], quick ? 4 : 10)
  const windowS = num('window-s', values['window-s'], quick ? 8 : 30)
  if (Math.abs(windowS / periodS - Math.round(windowS / periodS)) > 1e-9)
    throw new Error(
      '--window-s must be a multiple of --period-s: every device is due the same number of reports',
    )
  return {
    devices: Math.floor(num('devices', values.devices, quick ? 2_000 : 10_000)),
    periodS,
    windowS,
    cps: num('cps', values.cps, quick ? 2_000 : 1_000),
    // Every device's period has begun one period after the last one connected.
    settleS: periodS + (quick ? 0 : 5),
    only,
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  if (options === null) {
    process.stderr.write(`${usage}\n`)
    return
  }
  const limit = readOpenFilesLimit()
  let devices = options.devices
  if (devices + spareDescriptors > limit) {
    devices = Math.max(1, limit - spareDescriptors)
    process.stderr.write(
      `note: the open-files limit is ${String(limit)} (ulimit -n; bench/run.mjs raises it to the hard limit): ${String(devices)} devices per side, not ${String(options.devices)}\n`,
    )
  }
  const brokers = new BrokerSupervisor()
  const children = new ChildSet()
  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    await children.close()
    await brokers.close()
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping\n`)
      void stop().finally(() => process.exit(130))
    })
  }
  const shape = {
    devices,
    periodS: options.periodS,
    connectsPerSecond: options.cps,
    keepAliveS: 60,
    sessionExpiryS: 3_600,
  }
  const plan = (name: 'ours' | 'peer'): SidePlan => ({
    name,
    shape,
    settleMs: options.settleS * 1000,
    windowMs: options.windowS * 1000,
  })
  process.stderr.write(
    `fleet: ${String(devices)} devices per side, one QoS 1 message every ${String(options.periodS)} s each, ${String(options.windowS)} s window; broker ${brokerVersion('strata')}\n`,
  )
  try {
    // Both children load their modules at once (each measures its own baseline); then the
    // sides run one after the other, each against a fresh broker.
    const [oursChild, peerChild] = await Promise.all([
      options.only === 'peer' ? null : startChild('ours', children),
      options.only === 'ours' ? null : startChild('peer', children),
    ])
    let ours: SideFigures | null = null
    let peer: SideFigures | null = null
    if (oursChild !== null) ours = await runSide(plan('ours'), oursChild, brokers, children)
    if (peerChild !== null) peer = await runSide(plan('peer'), peerChild, brokers, children)
    const report = buildReport(ours, peer, {
      devices,
      period_s: options.periodS,
      window_s: options.windowS,
      connects_per_s: options.cps,
    })
    process.stderr.write(formatTable(report))
    process.stdout.write(`${JSON.stringify(report)}\n`)
  } finally {
    await stop()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `fleet benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  process.exitCode = 1
})
