// The load scenarios. Each opens its clients on a broker once, then runs rounds on it: a warm-up
// round, then measured rounds that alternate with the other broker's (see main.ts), and sums the
// rounds into figures in plain units.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

import {
  assertHealthy,
  closeAll,
  connectAll,
  type Figures,
  formatRate,
  measureWindow,
  type Scenario,
  type ScenarioContext,
  type Session,
  waitFor,
  WindowTotals,
} from './context.js'
import { ClosedLoopDriver, CountingSink, FixedRateDriver, median, quantile } from './drivers.js'
import { idle } from './idle.js'
import { type LoadClient, PublishTemplate } from './load.js'

const fanInPublishers = 4
const fanOutSubscribers = 50

interface Topology {
  readonly prefix: string
  readonly topic: string
  readonly qos: 0 | 1
  readonly publishers: number
  readonly subscribers: number
}

interface Connected {
  readonly publishers: LoadClient[]
  readonly clients: LoadClient[]
}

/** Connects the subscribers (subscribed, counting into `sink`), then the publishers. */
async function connectTopology(
  context: ScenarioContext,
  topology: Topology,
  sink: CountingSink,
): Promise<Connected> {
  const { port } = context.broker
  const { prefix, topic, qos } = topology
  const clients: LoadClient[] = []
  try {
    const subscribers = await connectAll(port, `${prefix}-sub-`, topology.subscribers)
    clients.push(...subscribers)
    for (const subscriber of subscribers) {
      subscriber.sink = sink
      await subscriber.subscribe(topic, qos)
    }
    const publishers = await connectAll(port, `${prefix}-pub-`, topology.publishers)
    clients.push(...publishers)
    return { publishers, clients }
  } catch (err) {
    await closeAll(clients)
    throw err
  }
}

interface ClosedLoopRun extends Topology {
  readonly windowMsgs: number
  readonly batchMax: number
}

/** Publishers flat out into one topic, subscribers counting; the window bounds what is queued. */
class ClosedLoopSession implements Session {
  private readonly context: ScenarioContext
  private readonly prefix: string
  private readonly sink: CountingSink
  private readonly driver: ClosedLoopDriver
  private readonly clients: readonly LoadClient[]
  private readonly totals = new WindowTotals()

  constructor(context: ScenarioContext, run: ClosedLoopRun, sink: CountingSink, on: Connected) {
    this.context = context
    this.prefix = run.prefix
    this.sink = sink
    this.clients = on.clients
    this.driver = new ClosedLoopDriver({
      publishers: on.publishers,
      sink,
      template: new PublishTemplate(run.topic, run.qos),
      fanout: run.subscribers,
      windowMsgs: run.windowMsgs,
      batchMax: run.batchMax,
      maxInflight: context.maxInflight,
    })
  }

  static async open(context: ScenarioContext, run: ClosedLoopRun): Promise<ClosedLoopSession> {
    const sink = new CountingSink(0)
    return new ClosedLoopSession(context, run, sink, await connectTopology(context, run, sink))
  }

  async round(measure: boolean, ms: number): Promise<void> {
    const { settleMs, drainMs } = this.context.timing
    this.driver.start()
    try {
      if (!measure) {
        await sleep(ms)
      } else {
        await sleep(settleMs)
        this.totals.add(await measureWindow(this.context, () => this.sink.delivered, ms))
      }
    } finally {
      this.driver.stop()
    }
    // Let the pipeline empty so the other broker's round starts on a quiet machine.
    await waitFor(() => this.driver.outstanding() <= 0, drainMs)
    assertHealthy(this.context, this.clients)
  }

  result(): Figures {
    const { totals, driver, context } = this
    if (totals.delivered === 0) throw new Error(`${context.broker.kind} delivered no message`)
    context.log(
      `${formatRate(totals.msgsPerS)} msg/s, ${formatRate(totals.msgsPerCpuS)} msg/broker-CPU-s ` +
        `(broker ${totals.brokerCores.toFixed(2)} cores, load generator ${totals.loadgenCores.toFixed(2)})` +
        (driver.lost > 0 ? `, ${String(driver.lost)} messages lost` : ''),
    )
    return {
      [`${this.prefix}_msgs_per_s`]: totals.msgsPerS,
      [`${this.prefix}_msgs_per_cpu_s`]: totals.msgsPerCpuS,
    }
  }

  async close(): Promise<void> {
    this.driver.stop()
    await closeAll(this.clients)
  }
}

interface FixedRateRun extends Topology {
  readonly ratePerS: number
}

/** Fan-in at a fixed total rate, QoS 0: latency from the send time stamped in each payload. */
class FixedRateSession implements Session {
  private readonly context: ScenarioContext
  private readonly name: string
  private readonly sink: CountingSink
  private readonly driver: FixedRateDriver
  private readonly clients: readonly LoadClient[]
  private readonly totals = new WindowTotals()
  /** p99 and max of the load generator's own event-loop delay per measured round (ns). */
  private readonly loopDelays: { p99: number; max: number }[] = []

  constructor(context: ScenarioContext, run: FixedRateRun, sink: CountingSink, on: Connected) {
    this.context = context
    this.name = run.prefix
    this.sink = sink
    this.clients = on.clients
    this.driver = new FixedRateDriver(
      on.publishers,
      new PublishTemplate(run.topic, 0),
      run.ratePerS,
    )
  }

  static async open(context: ScenarioContext, run: FixedRateRun): Promise<FixedRateSession> {
    const { rounds, roundMs } = context.timing
    // Room for every latency of the measured rounds, twice over for a broker that bunches up.
    const sink = new CountingSink(Math.ceil((run.ratePerS * rounds * roundMs) / 1000) * 2 + 1000)
    return new FixedRateSession(context, run, sink, await connectTopology(context, run, sink))
  }

  async round(measure: boolean, ms: number): Promise<void> {
    const { settleMs, drainMs } = this.context.timing
    this.driver.start()
    try {
      if (!measure) {
        await sleep(ms)
      } else {
        await sleep(settleMs)
        const fromMs = performance.now()
        this.sink.recordWindow(fromMs, fromMs + ms)
        this.driver.countWindow(fromMs, fromMs + ms)
        // A fresh histogram per window: re-enabling one would count the pause as a delay.
        const loopDelay = monitorEventLoopDelay({ resolution: 1 })
        loopDelay.enable()
        this.totals.add(await measureWindow(this.context, () => this.sink.delivered, ms))
        loopDelay.disable()
        this.loopDelays.push({ p99: loopDelay.percentile(99), max: loopDelay.max })
      }
    } finally {
      this.driver.stop()
    }
    await waitFor(() => this.sink.seen >= this.driver.sentInWindow, drainMs)
    if (measure) this.sink.endRound()
    assertHealthy(this.context, this.clients)
  }

  result(): Figures {
    const { sorted, seen } = this.sink.latencies()
    const { context, name, totals } = this
    if (seen === 0) throw new Error(`${context.broker.kind} delivered no message at a fixed rate`)
    const p50 = quantile(sorted, 0.5)
    // A single stall of the shared machine (tens of ms) decides a pooled p99: report the median
    // of the rounds' p99s, which a broker's own periodic pauses (GC) still move.
    const roundP99s = this.sink.roundQuantiles(0.99)
    const p99 = median(roundP99s)
    context.log(
      `p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms (median of rounds: ` +
        `${roundP99s.map((v) => v.toFixed(2)).join(' ')}; pooled ${quantile(sorted, 0.99).toFixed(3)}), ` +
        `max ${quantile(sorted, 1).toFixed(3)} ms; ${String(seen)} of ` +
        `${String(this.driver.sentInWindow)} delivered; broker ${(totals.brokerCores * 100).toFixed(1)}% of a core`,
    )
    const ms = (ns: number): string => (ns / 1e6).toFixed(1)
    const delayP99 = median(this.loopDelays.map((d) => d.p99))
    const delayMax = Math.max(...this.loopDelays.map((d) => d.max))
    context.log(
      `load generator event-loop delay: p99 ${ms(delayP99)} ms (median of rounds), ` +
        `max ${ms(delayMax)} ms; it is part of the latencies above`,
    )
    return {
      [`${name}_p50_ms`]: p50,
      [`${name}_p99_ms`]: p99,
      [`${name}_broker_cpu_pct`]: totals.brokerCores * 100,
    }
  }

  async close(): Promise<void> {
    this.driver.stop()
    await closeAll(this.clients)
  }
}

function fanIn(qos: 0 | 1): Scenario {
  const name = `qos${String(qos)}_fanin`
  const run: ClosedLoopRun = {
    prefix: name,
    topic: 'bench/fanin',
    qos,
    publishers: fanInPublishers,
    subscribers: 1,
    windowMsgs: 2000,
    batchMax: 100,
  }
  return {
    name,
    persistence: qos === 1,
    interleaved: true,
    open: (c) => ClosedLoopSession.open(c, run),
  }
}

const fanOutRun: ClosedLoopRun = {
  prefix: 'fanout',
  topic: 'bench/fanout',
  qos: 0,
  publishers: 1,
  subscribers: fanOutSubscribers,
  windowMsgs: 200,
  batchMax: 20,
}

function fixedRate(ratePerS: number): Scenario {
  const name = `latency_${String(ratePerS / 1000)}k`
  const run: FixedRateRun = {
    prefix: name,
    topic: 'bench/latency',
    qos: 0,
    publishers: fanInPublishers,
    subscribers: 1,
    ratePerS,
  }
  return { name, persistence: false, interleaved: true, open: (c) => FixedRateSession.open(c, run) }
}

/** Every scenario, in the order they run. */
export const scenarios: readonly Scenario[] = [
  fanIn(0),
  fanIn(1),
  {
    name: 'fanout',
    persistence: false,
    interleaved: true,
    open: (c) => ClosedLoopSession.open(c, fanOutRun),
  },
  fixedRate(4000),
  fixedRate(20_000),
  idle,
]
