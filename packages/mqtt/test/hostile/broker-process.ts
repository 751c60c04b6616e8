/**
 * A broker in a process of its own, for hostile-input tests: an attack that crashes it kills this
 * process, not the test runner, and its memory is measured apart from the attacker's. The parent
 * ({@link ChildBroker}) steers it over IPC: stats, permission changes, disconnectIdentity.
 */
import { createBroker, listenTcp, listenWebSocket, type BrokerSettings } from '../../src/index.js'

/** What the parent may ask; every request carries an id the reply repeats. */
export type BrokerRequest =
  | { readonly id: number; readonly type: 'stats' }
  | { readonly id: number; readonly type: 'deny-subscribe'; readonly filter: string }
  | { readonly id: number; readonly type: 'deny-publish'; readonly topic: string }
  | {
      readonly id: number
      readonly type: 'disconnect-identity'
      readonly identity: string
      readonly discardSessions: boolean
    }
  | { readonly id: number; readonly type: 'close' }

export interface BrokerStats {
  /** Resident set size after a full GC, bytes. */
  readonly rssBytes: number
  /** Bytes held in Buffers and ArrayBuffers after a full GC. */
  readonly arrayBufferBytes: number
  readonly connections: number
  readonly sessions: number
  /** CPU time used so far (user + system), ms. */
  readonly cpuMs: number
}

const settings = JSON.parse(process.env['STRATA_HOSTILE_BROKER'] ?? '{}') as BrokerSettings
const deniedFilters = new Set<string>()
const deniedTopics = new Set<string>()

const broker = await createBroker(
  {
    hooks: {
      authenticate: (ctx) => ({ ok: true, identity: { id: ctx.clientId } }),
      authorizeSubscribe: (_client, filter) =>
        deniedFilters.has(filter) ? { allowed: false } : { allowed: true },
      authorizePublish: (_client, topic) =>
        deniedTopics.has(topic) ? { allowed: false } : { allowed: true },
    },
  },
  { sysIntervalSec: 0, ...settings },
)
const tcp = await listenTcp(broker, { port: 0 })
const ws = await listenWebSocket(broker, { port: 0, path: '/mqtt' })

const gc = (globalThis as { gc?: () => void }).gc

function stats(): BrokerStats {
  gc?.()
  const memory = process.memoryUsage()
  const cpu = process.cpuUsage()
  return {
    rssBytes: memory.rss,
    arrayBufferBytes: memory.arrayBuffers,
    connections: broker.connectionCount,
    sessions: broker.sessionCount,
    cpuMs: (cpu.user + cpu.system) / 1000,
  }
}

async function answer(request: BrokerRequest): Promise<unknown> {
  switch (request.type) {
    case 'stats':
      return stats()
    case 'deny-subscribe':
      deniedFilters.add(request.filter)
      return true
    case 'deny-publish':
      deniedTopics.add(request.topic)
      return true
    case 'disconnect-identity':
      return broker.disconnectIdentity(request.identity, {
        discardSessions: request.discardSessions,
      })
    case 'close':
      await tcp.close()
      await ws.close()
      await broker.close()
      setImmediate(() => process.exit(0))
      return true
  }
}

process.on('message', (request: BrokerRequest) => {
  answer(request).then(
    (result) => process.send?.({ id: request.id, result }),
    (err: unknown) => process.send?.({ id: request.id, error: String(err) }),
  )
})
// The runner went away: do not outlive it.
process.on('disconnect', () => process.exit(0))
process.send?.({ ready: true, port: tcp.port, wsPort: ws.port })
