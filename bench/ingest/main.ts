// `npm run bench -- ingest [--quick] [options]`
// Simulated devices (MQTT.js, one load-generator process per core) send telemetry batches over
// MQTT to a running node of ours and, in the same run, to the do-it-yourself stack (Mosquitto + a
// Node subscriber writing to PostgreSQL with COPY). Figures: points/s stored and queryable end to
// end, publish-to-queryable latency, memory, lost points. Progress on stderr; the BRIEF §4 JSON
// as the last line on stdout.
import { availableParallelism } from 'node:os'
import { constants } from 'node:os'
import { parseArgs } from 'node:util'
import { BrokerSupervisor } from '../broker/brokers.js'
import type { Figures } from '../broker/context.js'
import { readClockTicks, readCpuSeconds, sampleProc } from '../broker/cpu.js'
import { roundFigures } from '../broker/report.js'
import { ChildSet } from './children.js'
import { quantile, VisibilityPoller } from './latency.js'
import { LoadGenerators, type BurstShape } from './load.js'
import { StrataStack, type RuleTotals } from './ours.js'
import { benchRules } from './rules.js'
import { payloadFormats, valuesPerRecord, type PayloadFormat } from './payload.js'
import { PeerStack } from './peer.js'
import type { Stack } from './stack.js'

const usage = `usage: npm run bench -- ingest [options]
  --quick            100 devices, 1 burst round, 4 s at a steady rate (< 60 s)
  --devices N        simulated devices (default 1000)
  --messages M       batches per device in each measured burst round (default 30; quick 60)
  --records R        records per batch, two values each (default 25)
  --window W         unacknowledged batches per device at most (default 4)
  --rounds K         measured burst rounds per stack, taken in turns (default 2; quick 1)
  --steady-s S       seconds at a steady rate for latency, per stack (default 20; quick 6)
  --format F         json or cbor (default json)
  --only S           strata or peer: run one stack (no ratio)
  --rules N          then load N rules into our node (a realistic mix, bench/ingest/rules.ts)
                     and measure its burst rounds again with them on (default 0: off)
  --cpu-prof DIR     write a CPU profile of our node into DIR
  --help             this text`

const mib = 1024 * 1024
/** Latency is measured at this share of the slower stack's burst rate (both at the same rate). */
const steadyShareOfSlower = 0.5
/** Sampled devices for latency: one in 20, at least 20 (50 of 1,000). */
const sampleShare = 20
const minSampleDevices = 20
/** Unmeasured batches per device before the first round: series are created, code gets hot. */
const warmupMessages = 3
const targetRatio = 2.0

interface Options {
  readonly quick: boolean
  readonly devices: number
  readonly burst: BurstShape
  readonly rounds: number
  readonly steadyMs: number
  readonly format: PayloadFormat
  readonly only: 'strata' | 'peer' | undefined
  readonly rules: number
  readonly profileDir: string | undefined
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      devices: { type: 'string' },
      messages: { type: 'string' },
      records: { type: 'string' },
      window: { type: 'string' },
      rounds: { type: 'string' },
      'steady-s': { type: 'string' },
      format: { type: 'string', default: 'json' },
      only: { type: 'string' },
      rules: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return null
  const quick = values.quick
  const int = (name: string, text: string | undefined, fallback: number): number => {
    const n = text === undefined ? fallback : Number(text)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`)
    return n
  }
  const format = values.format as PayloadFormat
  if (!payloadFormats.includes(format)) throw new Error('--format must be json or cbor')
  const only = values.only
  if (only !== undefined && only !== 'strata' && only !== 'peer')
    throw new Error('--only must be strata or peer')
  return {
    quick,
    devices: int('devices', values.devices, quick ? 100 : 1000),
    burst: {
      messages: int('messages', values.messages, quick ? 60 : 30),
      records: int('records', values.records, 25),
      window: int('window', values.window, 4),
    },
    rounds: int('rounds', values.rounds, quick ? 1 : 2),
    steadyMs: 1000 * int('steady-s', values['steady-s'], quick ? 4 : 20),
    format,
    only,
    rules: values.rules === undefined ? 0 : int('rules', values.rules, 0),
    profileDir: values['cpu-prof'],
  }
}

const benchStart = performance.now()

function log(line: string): void {
  const at = ((performance.now() - benchStart) / 1000).toFixed(1).padStart(5)
  process.stderr.write(`ingest ${at} s: ${line}\n`)
}

const wallNow = (): number => performance.timeOrigin + performance.now()
const thousands = (n: number): string => Math.round(n).toLocaleString('en')

/** What the measured burst rounds of one configuration add up to. */
interface BurstTally {
  burstPoints: number
  burstMs: number
  burstCpuS: number
}

/** One stack under test and what was measured on it. */
interface Slot extends BurstTally {
  readonly key: 'strata' | 'peer'
  readonly stack: Stack
  /** Our node's burst rounds with `--rules N` loaded. */
  readonly rulesOn: BurstTally
  /** Points published to it so far (warm-up included). */
  sent: number
  refused: number
  latenciesMs: number[]
  unseen: number
  errors: string[]
}

function cpuSeconds(pids: readonly number[], ticks: number): number {
  return pids.reduce((s, pid) => s + readCpuSeconds(pid, ticks), 0)
}

async function runBurst(
  load: LoadGenerators,
  slot: Slot,
  shape: BurstShape,
  ticks: number,
  /** Where the round counts; none for a warm-up. */
  tally: BurstTally | undefined,
): Promise<void> {
  const cpu0 = cpuSeconds(slot.stack.cpuPids, ticks)
  const loadCpu0 = cpuSeconds(load.pids, ticks)
  const t0 = wallNow()
  const result = await load.burst(slot.key, shape)
  const loadCpuS = cpuSeconds(load.pids, ticks) - loadCpu0
  slot.sent += result.points
  slot.refused += result.refusedPoints
  slot.errors.push(...result.errors)
  const storedAt = await slot.stack.storedAt(slot.sent, result.lastAckAtMs)
  const cpuS = cpuSeconds(slot.stack.cpuPids, ticks) - cpu0
  const ms = storedAt - t0
  log(
    `${slot.key}${tally === slot.rulesOn ? ' with rules' : ''} ${tally === undefined ? 'warm-up' : 'burst'}: ${thousands(result.ackedPoints)} points stored in ` +
      `${(ms / 1000).toFixed(2)} s = ${thousands(result.ackedPoints / (ms / 1000))} points/s, ` +
      `${cpuS.toFixed(2)} CPU s (load generators ${loadCpuS.toFixed(2)})` +
      (result.refusedPoints > 0 ? `, ${thousands(result.refusedPoints)} refused` : ''),
  )
  if (tally === undefined) return
  tally.burstPoints += result.ackedPoints
  tally.burstMs += ms
  tally.burstCpuS += cpuS
}

async function runSteady(
  load: LoadGenerators,
  slot: Slot,
  options: Options,
  pointsPerS: number,
  sample: readonly string[],
): Promise<void> {
  const { records } = options.burst
  const perDevicePerS = pointsPerS / (options.devices * records * valuesPerRecord)
  const poller = new VisibilityPoller(slot.stack, sample)
  poller.start()
  const result = await load.steady(slot.key, {
    perDevicePerS,
    durationMs: options.steadyMs,
    records,
    sample,
  })
  await poller.finish(result.samples)
  slot.sent += result.points
  slot.refused += result.refusedPoints
  slot.errors.push(...result.errors)
  await slot.stack.storedAt(slot.sent, result.lastAckAtMs)
  const { ms, unseen } = poller.latencies(result.samples)
  slot.latenciesMs.push(...ms)
  slot.unseen += unseen
  log(
    `${slot.key} steady: ${thousands(pointsPerS)} points/s (${perDevicePerS.toFixed(2)} batches/s ` +
      `per device), ${String(ms.length)} samples, ${String(poller.polls)} polls: ` +
      `p50 ${quantile(ms, 0.5).toFixed(1)} ms, p99 ${quantile(ms, 0.99).toFixed(1)} ms` +
      (unseen > 0 ? `, ${String(unseen)} never seen` : ''),
  )
}

async function figuresOf(slot: Slot, fromMs: number, steadyPointsPerS: number): Promise<Figures> {
  const stored = await slot.stack.countPoints(fromMs, Date.now() + 2 * 3_600_000)
  const rssBytes = slot.stack.memoryPids.reduce((s, pid) => s + sampleProc(pid, 100).hwmBytes, 0)
  if (stored !== slot.sent)
    log(
      `${slot.key}: ${thousands(slot.sent)} points sent, ${thousands(stored)} stored: LOST POINTS`,
    )
  if (slot.errors.length > 0) log(`${slot.key} errors: ${slot.errors.slice(0, 5).join('; ')}`)
  return {
    points_per_s: slot.burstPoints / (slot.burstMs / 1000),
    points_per_cpu_s: slot.burstPoints / slot.burstCpuS,
    latency_p50_ms: quantile(slot.latenciesMs, 0.5),
    latency_p99_ms: quantile(slot.latenciesMs, 0.99),
    latency_load_points_per_s: steadyPointsPerS,
    latency_samples: slot.latenciesMs.length,
    rss_mib: rssBytes / mib,
    points_sent: slot.sent,
    points_stored: stored,
    points_lost: slot.sent - stored,
  }
}

/**
 * Our node with rules on against the same node with them off: messages (batches) and points per
 * second in the burst rounds, and what the rules engine says it did.
 */
async function rulesFigures(
  slot: Slot,
  stack: StrataStack,
  options: Options,
  before: RuleTotals,
): Promise<Figures> {
  const perMessage = options.burst.records * valuesPerRecord
  const off = slot.burstPoints / (slot.burstMs / 1000)
  const on = slot.rulesOn.burstPoints / (slot.rulesOn.burstMs / 1000)
  const after = await stack.ruleTotals()
  const engine = {
    evaluations: after.evaluations - before.evaluations,
    matched: after.matched - before.matched,
    errors: after.errors - before.errors,
  }
  log(
    `strata with ${String(options.rules)} rules: ${thousands(on / perMessage)} messages/s ` +
      `(${thousands(on)} points/s) against ${thousands(off / perMessage)} messages/s with none ` +
      `(${(on / off).toFixed(3)}×); in the measured rounds the engine evaluated ` +
      `${thousands(engine.evaluations)} record×rule pairs ` +
      `(${thousands(engine.evaluations / (slot.rulesOn.burstMs / 1000))}/s), ` +
      `${thousands(engine.matched)} matched, ${thousands(engine.errors)} errors`,
  )
  return {
    rules_loaded: options.rules,
    messages_per_s: off / perMessage,
    rules_on_messages_per_s: on / perMessage,
    rules_on_points_per_s: on,
    rules_on_over_off_ratio: on / off,
    rules_on_points_per_cpu_s: slot.rulesOn.burstPoints / slot.rulesOn.burstCpuS,
    rule_evaluations: engine.evaluations,
    rule_evaluations_per_s: engine.evaluations / (slot.rulesOn.burstMs / 1000),
    rule_matches: engine.matched,
    rule_errors: engine.errors,
  }
}

/** ours / peer per figure, 3 decimals; a figure that is 0 for the peer has none. */
function ratios(ours: Figures, peer: Figures): Figures {
  const out: Figures = {}
  for (const [name, value] of Object.entries(ours)) {
    const base = peer[name]
    if (base !== undefined && base !== 0) out[name] = Math.round((value / base) * 1000) / 1000
  }
  return out
}

async function run(
  options: Options,
  children: ChildSet,
  brokers: BrokerSupervisor,
  started: Stack[],
) {
  const startedAt = performance.now()
  const ticks = readClockTicks()
  const ids = Array.from({ length: options.devices }, (_, i) => `dev-${String(i).padStart(5, '0')}`)
  const processes = Math.max(1, Math.min(availableParallelism(), 8))
  const loading = LoadGenerators.start(children, processes)
  const fromMs = Date.now() - 60_000
  const slots: Slot[] = []
  const add = (key: Slot['key'], stack: Stack): Slot => {
    started.push(stack)
    const slot: Slot = {
      key,
      stack,
      sent: 0,
      refused: 0,
      burstPoints: 0,
      burstMs: 0,
      burstCpuS: 0,
      rulesOn: { burstPoints: 0, burstMs: 0, burstCpuS: 0 },
      latenciesMs: [],
      unseen: 0,
      errors: [],
    }
    slots.push(slot)
    return slot
  }
  /** Starts a stack, connects the devices and warms it up (unmeasured). */
  const prepare = async (key: Slot['key'], starting: Promise<Stack>): Promise<void> => {
    const slot = add(key, await starting)
    const load = await loading
    const t0 = performance.now()
    await load.connect(key, slot.stack.mqttUrl, slot.stack.credentials, options.format)
    log(
      `${key}: ${String(options.devices)} devices connected in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s (${String(processes)} load generator processes)`,
    )
    await runBurst(load, slot, { ...options.burst, messages: warmupMessages }, ticks, undefined)
  }
  // Both stacks are prepared side by side (registering devices on ours takes a while: argon2id);
  // nothing is measured until both are ready.
  const preparing: Promise<void>[] = []
  if (options.only !== 'peer') {
    log(`starting our node, registering ${String(options.devices)} devices with tokens`)
    const stack = StrataStack.start(children, ids, {
      name: 'strata',
      profileDir: options.profileDir,
    })
    preparing.push(prepare('strata', stack))
  }
  if (options.only !== 'strata') {
    log('starting mosquitto, a PostgreSQL database and the subscriber')
    preparing.push(prepare('peer', PeerStack.start(children, brokers, ids, options.format)))
  }
  // Wait for all even if one fails, so that whatever did start is closed again.
  const outcomes = await Promise.allSettled([loading, ...preparing])
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason
  const load = await loading
  slots.sort((a, b) => (a.key === 'strata' ? -1 : b.key === 'strata' ? 1 : 0))
  // Rounds in turns, A B B A …: load from elsewhere on the machine falls on both alike.
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? slots : [...slots].reverse()
    for (const slot of order) await runBurst(load, slot, options.burst, ticks, slot)
  }
  const slowest = Math.min(...slots.map((s) => s.burstPoints / (s.burstMs / 1000)))
  const steadyPointsPerS = Math.round((slowest * steadyShareOfSlower) / 1000) * 1000
  const sample = ids.slice(0, Math.max(minSampleDevices, Math.ceil(ids.length / sampleShare)))
  for (const slot of slots) await runSteady(load, slot, options, steadyPointsPerS, sample)
  const ours = slots.find((s) => s.key === 'strata')
  let ruleFigures: Figures = {}
  if (options.rules > 0 && ours?.stack instanceof StrataStack) {
    const t0 = performance.now()
    await ours.stack.loadRules(benchRules(options.rules))
    log(
      `strata: ${String(options.rules)} rules loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    )
    await runBurst(load, ours, { ...options.burst, messages: warmupMessages }, ticks, undefined)
    const before = await ours.stack.ruleTotals()
    for (let round = 0; round < options.rounds; round++)
      await runBurst(load, ours, options.burst, ticks, ours.rulesOn)
    ruleFigures = await rulesFigures(ours, ours.stack, options, before)
  }
  const figures = new Map<Slot['key'], Figures>()
  for (const slot of slots) figures.set(slot.key, await figuresOf(slot, fromMs, steadyPointsPerS))
  if (ours !== undefined) figures.set('strata', { ...figures.get('strata'), ...ruleFigures })
  for (const slot of slots) await load.disconnect(slot.key)
  log(`done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`)
  return { figures, slots }
}

function report(options: Options, result: Awaited<ReturnType<typeof run>>): void {
  const ours = result.figures.get('strata')
  const peer = result.figures.get('peer')
  const peerSlot = result.slots.find((s) => s.key === 'peer')
  const shape = {
    devices: options.devices,
    points_per_batch: options.burst.records * valuesPerRecord,
    batches_per_device: options.burst.messages,
    window: options.burst.window,
  }
  const figures = ours === undefined ? undefined : roundFigures({ ...shape, ...ours })
  const peerFigures = peer === undefined ? undefined : roundFigures(peer)
  const line = {
    bench: 'ingest',
    format: options.format,
    figures: figures ?? null,
    peer:
      peerFigures === undefined || peerSlot === undefined
        ? null
        : { name: peerSlot.stack.name, figures: peerFigures },
    ratio: figures === undefined || peerFigures === undefined ? null : ratios(figures, peerFigures),
  }
  if (line.ratio !== null) {
    const r = line.ratio['points_per_s']
    log(
      `points/s ratio ${String(r)} (target >= ${targetRatio.toFixed(1)}: ${r !== undefined && r >= targetRatio ? 'met' : 'MISSED'}); ` +
        'for latency, RSS and lost points lower is better',
    )
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

async function main(): Promise<number> {
  let options: Options | null
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(
      `bench ingest: ${err instanceof Error ? err.message : String(err)}\n${usage}\n`,
    )
    return 2
  }
  if (options === null) {
    process.stderr.write(`${usage}\n`)
    return 0
  }
  const children = new ChildSet()
  const brokers = new BrokerSupervisor()
  const started: Stack[] = []
  let closing: Promise<void> | undefined
  const closeAll = (): Promise<void> =>
    (closing ??= (async () => {
      for (const stack of started.splice(0).reverse()) {
        await stack.close().catch((err: unknown) => {
          log(`closing ${stack.name} failed: ${err instanceof Error ? err.message : String(err)}`)
        })
      }
      await children.close()
      await brokers.close()
    })())
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench ingest: ${signal}, stopping what it started\n`)
      void closeAll().finally(() => process.exit(128 + constants.signals[signal]))
    })
  }
  try {
    const result = await run(options, children, brokers, started)
    report(options, result)
    return 0
  } catch (err) {
    process.stderr.write(
      `bench ingest: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    )
    return 1
  } finally {
    await closeAll()
  }
}

process.exitCode = await main()
