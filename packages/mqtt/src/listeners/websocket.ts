import { createServer as createHttpServer, type IncomingMessage } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { Broker } from '../broker/create-broker.js'
import {
  serverListener,
  listenOn,
  listenerLimit,
  trackStreams,
  type ListenAddress,
  type Listener,
} from './listener.js'
import type { TlsSettings } from './tls.js'

/**
 * Serves MQTT over WebSocket (MQTT 5 §6): binary frames, subprotocol `mqtt`, on `path`. With
 * `tls`, over HTTPS (wss). Frames are just bytes for the broker's framing, so a short or split
 * frame is handled like any TCP segment (NanoMQ CVE-2026-25627).
 *
 * @example
 * await listenWebSocket(broker, { port: 0, path: '/mqtt' })
 */
export async function listenWebSocket(
  broker: Broker,
  address: ListenAddress & {
    readonly path?: string
    readonly tls?: TlsSettings
    readonly maxPayloadBytes?: number
    readonly flagHint?: string
  },
): Promise<Listener> {
  const streams = trackStreams()
  const limit = listenerLimit(streams, address)
  const path = address.path ?? '/mqtt'
  const http =
    address.tls === undefined
      ? createHttpServer()
      : createHttpsServer({ key: address.tls.key, cert: address.tls.cert })
  const wss = new WebSocketServer({
    server: http,
    path,
    maxPayload: address.maxPayloadBytes ?? 2 * 1_048_576,
    // [MQTT-6.0.0-3] the subprotocol is "mqtt"; also accept clients that name none.
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  })
  wss.on('connection', (ws, request: IncomingMessage) => {
    // [MQTT-6.0.0-1] MQTT travels in binary frames: a text frame closes the connection. This
    // listener runs before the stream's own, so the text never reaches the broker.
    ws.on('message', (_data, isBinary) => {
      if (!isBinary) {
        stream.destroy()
        ws.terminate()
      }
    })
    const stream = createWebSocketStream(ws)
    streams.add(stream)
    stream.on('error', () => stream.destroy())
    // ws's stream neither auto-destroys nor emits 'close' when the socket goes: make it.
    stream.on('end', () => stream.destroy())
    ws.on('close', () => stream.destroy())
    broker.handle(stream, {
      remoteAddress: request.socket.remoteAddress ?? 'unknown',
      listener: url,
      ...limit,
    })
  })
  const { host, port } = await listenOn(http, address, 'WebSocket', address.flagHint ?? '--ws-port')
  const url = `${address.tls === undefined ? 'ws' : 'wss'}://${host}:${String(port)}${path}`
  return serverListener(http, streams, { host, port, url }, async () => {
    for (const client of wss.clients) client.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })
}
