import type { BrokerCore } from '../broker/broker-core.js'

/**
 * Publishes broker metrics as retained messages under `$SYS/broker/` every `sysIntervalSec`, as
 * Mosquitto does, so any client with read access to `$SYS/#` can watch the broker.
 */
export function startSysTopics(core: BrokerCore): { stop(): void } {
  const interval = core.options.sysIntervalSec
  if (interval <= 0) return { stop: () => undefined }
  const started = core.clock()
  const publish = (): void => {
    const m = core.metrics
    const values: Record<string, string | number> = {
      version: core.options.version,
      uptime: `${String(Math.floor((core.clock() - started) / 1000))} seconds`,
      'clients/connected': core.connections.size,
      'clients/total': core.sessions.size,
      'messages/received': m.messagesReceived,
      'messages/sent': m.messagesSent,
      'messages/dropped': m.messagesDropped,
      'retained messages/count': core.retained.size,
      'subscriptions/count': core.tree.size,
      'security/auth failures': m.authFailures,
      'security/publish denied': m.publishDenied,
      'security/subscribe denied': m.subscribeDenied,
      'limits/breaches': m.limitBreaches,
    }
    for (const [name, value] of Object.entries(values)) {
      core.publishInternal({
        topic: `$SYS/broker/${name}`,
        payload: Buffer.from(String(value)),
        qos: 0,
        retain: true,
        properties: {},
        createdAtMs: core.clock(),
      })
    }
  }
  publish()
  const timer = setInterval(publish, interval * 1000)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
