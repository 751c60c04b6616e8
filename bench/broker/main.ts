// `npm run bench -- broker [--quick] [--brokers mosquitto,strata] [--idle N] [--scenarios a,b]`
// Runs every scenario on a fresh instance of each broker: load scenarios in rounds that alternate
// between the brokers, the idle one broker after broker. Prints progress and a table with the
// issue's targets on stderr and, as the last line on stdout, the BRIEF §4 JSON.
import { availableParallelism, constants } from 'node:os'
import { parseArgs } from 'node:util'

import {
  type BrokerKind,
  brokerKinds,
  BrokerSupervisor,
  brokerVersion,
  type RunningBroker,
} from './brokers.js'
import type { Figures, Scenario, Session, Timing } from './context.js'
import { readClockTicks, readOpenFilesLimit, sampleProc } from './cpu.js'
import { buildReport, formatTable } from './report.js'
import { scenarios } from './scenarios.js'

const usage = `usage: npm run bench -- broker [options]
  --quick                 short run (under 60 s for two brokers), 2,000 idle connections
  --brokers LIST          broker kinds to run, comma-separated, at most two (default mosquitto,strata);
                          ours is strata when present, else the first; mosquitto,mosquitto checks the harness
  --idle N                idle connections to open (default 10000, quick 2000; capped by the fd limit)
  --scenarios LIST        run only these: ${scenarios.map((s) => s.name).join(', ')}
  --help                  this text`

/** max_inflight_messages for both brokers, and the QoS 1 publishers' PUBACK window. */
const maxInflight = 100
const maxQueued = 100_000
const mib = 1024 * 1024
/** File descriptors kept free for everything that is not an idle connection. */
const fdReserve = 512

interface Options {
  readonly quick: boolean
  readonly kinds: readonly BrokerKind[]
  readonly idle: number | undefined
  readonly only: readonly Scenario[]
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      brokers: { type: 'string', default: 'mosquitto,strata' },
      idle: { type: 'string' },
      scenarios: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return null
  const kinds = values.brokers.split(',').map((kind) => kind.trim())
  const bad = kinds.find((kind) => !(brokerKinds as readonly string[]).includes(kind))
  if (bad !== undefined)
    throw new UsageError(`unknown broker kind "${bad}"; known: ${brokerKinds.join(', ')}`)
  if (kinds.length < 1 || kinds.length > 2) throw new UsageError('--brokers takes one or two kinds')
  const idle = values.idle === undefined ? undefined : Number(values.idle)
  if (idle !== undefined && !(Number.isInteger(idle) && idle > 0))
    throw new UsageError('--idle takes a positive integer')
  const names = values.scenarios?.split(',').map((name) => name.trim())
  const unknown = names?.find((name) => !scenarios.some((s) => s.name === name))
  if (unknown !== undefined) throw new UsageError(`unknown scenario "${unknown}"`)
  const only = names === undefined ? scenarios : scenarios.filter((s) => names.includes(s.name))
  return { quick: values.quick, kinds: kinds as BrokerKind[], idle, only }
}

function timingFor(options: Options): Timing {
  const fdCap = readOpenFilesLimit() - fdReserve
  const wanted = options.idle ?? (options.quick ? 2000 : 10_000)
  if (wanted > fdCap) {
    process.stderr.write(
      `note: ${String(wanted)} idle connections requested, but the open-files limit allows ${String(fdCap)} ` +
        `(raise \`ulimit -Hn\` to go further); using ${String(fdCap)}\n`,
    )
  }
  const idleConnections = Math.max(1, Math.min(wanted, fdCap))
  return options.quick ? { ...quickTiming, idleConnections } : { ...fullTiming, idleConnections }
}

const quickTiming = {
  warmupMs: 400,
  rounds: 5,
  roundMs: 400,
  settleMs: 100,
  drainMs: 500,
  idleSettleMs: 700,
}
const fullTiming = {
  warmupMs: 2000,
  rounds: 10,
  roundMs: 1000,
  settleMs: 200,
  drainMs: 1000,
  idleSettleMs: 3000,
}

/** Index of "ours" in the kinds list: strata when it runs against mosquitto, else the first. */
function oursIndex(kinds: readonly BrokerKind[]): number {
  const strata = kinds.indexOf('strata')
  return strata >= 0 && kinds.some((kind) => kind !== 'strata') ? strata : 0
}

interface Slot {
  readonly kind: BrokerKind
  readonly label: string
  readonly figures: Figures
  peakRssBytes: number
}

interface Env {
  readonly supervisor: BrokerSupervisor
  readonly timing: Timing
  readonly ticksPerS: number
}

interface Open {
  readonly slot: Slot
  readonly broker: RunningBroker
  readonly session: Session
}

/** Starts a fresh broker for the scenario and opens the scenario's clients on it. */
async function openOn(env: Env, scenario: Scenario, slot: Slot): Promise<Open> {
  const log = (line: string): void =>
    void process.stderr.write(`  [${scenario.name} · ${slot.label}] ${line}\n`)
  const settings = {
    persistence: scenario.persistence,
    maxInflightMessages: maxInflight,
    maxQueuedMessages: maxQueued,
  }
  const broker = await env.supervisor.start(slot.kind, settings)
  const where = `127.0.0.1:${String(broker.port)}${scenario.persistence ? ', persistence on' : ''}`
  log(`broker pid ${String(broker.pid)} on ${where}`)
  try {
    const { timing, ticksPerS } = env
    const session = await scenario.open({ broker, ticksPerS, timing, maxInflight, log })
    return { slot, broker, session }
  } catch (err) {
    await broker.stop()
    throw err
  }
}

async function closeOn(open: Open): Promise<void> {
  try {
    await open.session.close()
  } finally {
    await open.broker.stop()
  }
}

/**
 * Both brokers run side by side; each gets a warm-up round, then they take turns for the
 * measured rounds (order alternating), so load from elsewhere on the machine hits both alike.
 */
async function runInterleaved(env: Env, scenario: Scenario, slots: readonly Slot[]): Promise<void> {
  const { warmupMs, rounds, roundMs } = env.timing
  const opened: Open[] = []
  try {
    for (const slot of slots) opened.push(await openOn(env, scenario, slot))
    for (const open of opened) await open.session.round(false, warmupMs)
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? opened : [...opened].reverse()
      for (const open of order) await open.session.round(true, roundMs)
    }
    for (const { slot, broker, session } of opened) {
      Object.assign(slot.figures, session.result())
      const peak = sampleProc(broker.pid, env.ticksPerS).hwmBytes
      slot.peakRssBytes = Math.max(slot.peakRssBytes, peak)
    }
  } finally {
    for (const open of opened) await closeOn(open)
  }
}

/** One broker after the other (the idle scenario). */
async function runSequential(env: Env, scenario: Scenario, slots: readonly Slot[]): Promise<void> {
  for (const slot of slots) {
    const open = await openOn(env, scenario, slot)
    try {
      Object.assign(slot.figures, open.session.result())
    } finally {
      await closeOn(open)
    }
  }
}

/** Starts and stops each kind once, so a broker that cannot start fails the run at once. */
async function preflight(
  supervisor: BrokerSupervisor,
  kinds: readonly BrokerKind[],
): Promise<void> {
  for (const kind of new Set(kinds)) {
    const settings = {
      persistence: false,
      maxInflightMessages: maxInflight,
      maxQueuedMessages: maxQueued,
    }
    const began = performance.now()
    const broker = await supervisor.start(kind, settings)
    await broker.stop()
    process.stderr.write(`  ${kind} starts (${String(Math.round(performance.now() - began))} ms)\n`)
  }
}

async function runAll(options: Options, supervisor: BrokerSupervisor): Promise<Slot[]> {
  const env: Env = { supervisor, timing: timingFor(options), ticksPerS: readClockTicks() }
  const { timing } = env
  const slots: Slot[] = options.kinds.map((kind, i) => ({
    kind,
    label: `${kind}#${String(i + 1)}`,
    figures: {},
    peakRssBytes: 0,
  }))
  process.stderr.write(
    `broker bench (${options.quick ? 'quick' : 'full'}): ${slots.map((s) => s.label).join(' vs ')}; ` +
      `${String(availableParallelism())} CPUs shared by brokers and load generator; ` +
      `per scenario ${String(timing.warmupMs)} ms warm-up + ${String(timing.rounds)} rounds of ` +
      `${String(timing.roundMs)} ms per broker; ${String(timing.idleConnections)} idle connections\n`,
  )
  const started = performance.now()
  await preflight(supervisor, options.kinds)
  for (const [n, scenario] of options.only.entries()) {
    // Alternate which broker is started (and warmed up) first.
    const order = n % 2 === 0 ? slots : [...slots].reverse()
    if (scenario.interleaved) await runInterleaved(env, scenario, order)
    else await runSequential(env, scenario, order)
  }
  for (const slot of slots) {
    if (slot.peakRssBytes > 0) slot.figures.rss_mib = slot.peakRssBytes / mib
  }
  process.stderr.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  return slots
}

function report(options: Options, slots: readonly Slot[]): void {
  const ours = slots[oursIndex(options.kinds)]
  const peer = slots.find((slot) => slot !== ours)
  if (ours === undefined) throw new Error('no broker ran')
  const result = buildReport(
    { name: brokerVersion(ours.kind), figures: ours.figures },
    peer === undefined ? null : { name: brokerVersion(peer.kind), figures: peer.figures },
  )
  if (peer === undefined)
    process.stderr.write(`only ${ours.kind} ran: no peer, so "peer" and "ratio" are null\n`)
  process.stderr.write(`${formatTable(result, `${brokerVersion(ours.kind)} (${ours.label})`)}\n`)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

async function main(): Promise<number> {
  let options: Options | null
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(
      `bench broker: ${err instanceof Error ? err.message : String(err)}\n${usage}\n`,
    )
    return 2
  }
  if (options === null) {
    process.stderr.write(`${usage}\n`)
    return 0
  }
  const supervisor = new BrokerSupervisor()
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench broker: ${signal}, stopping the brokers\n`)
      void supervisor.close().finally(() => process.exit(128 + constants.signals[signal]))
    })
  }
  try {
    report(options, await runAll(options, supervisor))
    return 0
  } catch (err) {
    process.stderr.write(
      `bench broker: FAILED: ${err instanceof Error ? err.message : String(err)}\n`,
    )
    return 1
  } finally {
    await supervisor.close()
  }
}

process.exitCode = await main()
