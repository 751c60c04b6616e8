// The idle-connection scenario: open N connections that CONNECT and then do nothing, and divide
// the broker's RSS growth by the connections that stayed open. Runs one broker at a time (not
// interleaved): its connections would otherwise hold twice the file descriptors.
import { setTimeout as sleep } from 'node:timers/promises'

import {
  assertHealthy,
  connectMany,
  type Figures,
  formatRate,
  keepaliveS,
  type Scenario,
  type ScenarioContext,
  type Session,
} from './context.js'
import { sampleProc } from './cpu.js'
import { LoadClient } from './load.js'

const mib = 1024 * 1024

class IdleSession implements Session {
  private readonly clients: LoadClient[] = []
  private figures: Figures = {}

  static async open(context: ScenarioContext): Promise<IdleSession> {
    const session = new IdleSession()
    try {
      await session.measure(context)
    } catch (err) {
      await session.close()
      throw err
    }
    return session
  }

  private async measure(context: ScenarioContext): Promise<void> {
    const { broker, ticksPerS, timing } = context
    const rss = (): number => sampleProc(broker.pid, ticksPerS).rssBytes
    const first = await LoadClient.connect({
      port: broker.port,
      clientId: 'idle-first',
      keepaliveS,
    })
    this.clients.push(first)
    await sleep(300) // let the broker finish allocating for its first client
    const before = rss()
    const started = performance.now()
    const { clients, errors } = await connectMany(broker.port, 'idle-', timing.idleConnections)
    const perS = clients.length / ((performance.now() - started) / 1000)
    this.clients.push(...clients)
    await sleep(timing.idleSettleMs)
    const after = rss()
    assertHealthy(context, [first])
    const open = clients.filter((client) => client.failure === null).length
    const failures = errors.length + clients.length - open
    const perConn = open > 0 ? (after - before) / open : Number.NaN
    context.log(
      `${String(open)} idle connections (${formatRate(perS)}/s to open), ${String(failures)} failed` +
        `${errors[0] === undefined ? '' : ` (first: ${errors[0]})`}; ` +
        `RSS ${(before / mib).toFixed(1)} → ${(after / mib).toFixed(1)} MiB = ${formatRate(perConn)} B/conn`,
    )
    this.figures = {
      idle_connections: open,
      idle_failures: failures,
      idle_bytes_per_conn: perConn,
      idle_rss_mib: after / mib,
    }
  }

  round(): Promise<void> {
    return Promise.resolve()
  }

  result(): Figures {
    return this.figures
  }

  close(): Promise<void> {
    for (const client of this.clients) client.destroy()
    return Promise.resolve()
  }
}

export const idle: Scenario = {
  name: 'idle',
  persistence: false,
  interleaved: false,
  open: (context) => IdleSession.open(context),
}
