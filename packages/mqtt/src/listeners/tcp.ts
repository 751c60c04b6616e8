import { createServer } from 'node:net'
import type { Broker } from '../broker/create-broker.js'
import {
  serverListener,
  listenOn,
  listenerLimit,
  trackStreams,
  type ListenAddress,
  type Listener,
} from './listener.js'

/**
 * Serves MQTT over plain TCP. TCP_NODELAY is on: MQTT packets are small and latency matters more
 * than the few bytes Nagle would save.
 *
 * @example
 * const listener = await listenTcp(broker, { port: 0 })
 * console.log(listener.url) // mqtt://127.0.0.1:40321
 */
export async function listenTcp(
  broker: Broker,
  address: ListenAddress & { readonly flagHint?: string },
): Promise<Listener> {
  const streams = trackStreams()
  const limit = listenerLimit(streams, address)
  const server = createServer({ noDelay: true }, (socket) => {
    streams.add(socket)
    broker.handle(socket, {
      remoteAddress: socket.remoteAddress ?? 'unknown',
      listener: url,
      ...limit,
    })
  })
  const { host, port } = await listenOn(server, address, 'MQTT', address.flagHint ?? '--mqtt-port')
  const url = `mqtt://${host}:${String(port)}`
  return serverListener(server, streams, { host, port, url })
}
