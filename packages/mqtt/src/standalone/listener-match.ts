import type { ListenerConfig } from './broker-config-schema.js'

/**
 * The configured listener a connection came through, from the URL the broker's listeners put in
 * `ConnectContext.listener` (`mqtt://HOST:PORT`, `mqtts://…`, `ws://HOST:PORT/PATH`, `wss://…`):
 * same port, same transport (TLS or not, websockets or not), and the same host unless the
 * config binds every interface. Undefined unless exactly one listener fits, so a connection is
 * never judged by the wrong listener's rules. Listeners on port 0 cannot be found this way: pass
 * `listenerOf` to `createStandaloneHooks` for them.
 *
 * @example
 * matchListener(config.listeners, 'mqtts://0.0.0.0:8883') // the `listener 8883` block with certfile
 */
export function matchListener(
  listeners: readonly ListenerConfig[],
  url: string,
): ListenerConfig | undefined {
  const parsed = /^(mqtts?|wss?):\/\/(.+):(\d{1,5})(?:\/.*)?$/.exec(url)
  if (parsed === null) return undefined
  const [, scheme = '', rawHost = '', portText = ''] = parsed
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost
  const port = Number(portText)
  const tls = scheme === 'mqtts' || scheme === 'wss'
  const websockets = scheme.startsWith('ws')
  const fits = listeners.filter(
    (l) =>
      l.port === port &&
      (l.tls !== undefined) === tls &&
      (l.protocol === 'websockets') === websockets &&
      (l.host === undefined || l.host === host),
  )
  return fits.length === 1 ? fits[0] : undefined
}
