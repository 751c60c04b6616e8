import type { Server } from 'node:net'
import type { Duplex } from 'node:stream'
import type { ConnectionInfo } from '../connection/connection-info.js'
import { MqttError } from '../errors.js'

/** An open listener: where it listens, and how to stop it. */
export interface Listener {
  readonly host: string
  readonly port: number
  /** e.g. `mqtt://127.0.0.1:1883`, `mqtts://…`, `ws://…/mqtt`. */
  readonly url: string
  /** Stops accepting and cuts the connections it accepted. Idempotent. */
  close(): Promise<void>
}

/** Where to listen; port 0 picks a free port. */
export interface ListenAddress {
  readonly port: number
  readonly host?: string
  /**
   * Connections this listener serves at once, counted apart from other listeners (Mosquitto's
   * per-listener `max_connections`). A CONNECT beyond it is refused as the broker-wide
   * `limits.maxConnections` refuses one: CONNACK 0x89 server busy (3.1.1: 3, server
   * unavailable). Absent: only the broker-wide limit applies.
   */
  readonly maxConnections?: number
}

/** Listens, turning "port in use" into an error that names the port and what to do. */
export async function listenOn(
  server: Server,
  address: ListenAddress,
  scheme: string,
  flagHint: string,
): Promise<{ host: string; port: number }> {
  const host = address.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const what =
        err.code === 'EADDRINUSE'
          ? 'is already in use'
          : err.code === 'EACCES'
            ? 'needs privileges'
            : `failed (${err.message})`
      reject(
        new MqttError(
          'MQTT_LISTEN_FAILED',
          `${scheme} port ${String(address.port)} on ${host} ${what}`,
          {
            hint: `Choose another port with ${flagHint}, or stop what holds it.`,
            cause: err,
          },
        ),
      )
    }
    server.once('error', onError)
    server.listen(address.port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const bound = server.address()
  const port = typeof bound === 'object' && bound !== null ? bound.port : address.port
  return { host, port }
}

/** Tracks accepted streams so `close()` can cut them, and counts them for `maxConnections`. */
export function trackStreams(): {
  add(stream: Duplex): void
  destroyAll(): void
  readonly size: number
} {
  const open = new Set<Duplex>()
  return {
    get size() {
      return open.size
    },
    add: (stream) => {
      open.add(stream)
      stream.once('close', () => open.delete(stream))
    },
    destroyAll: () => {
      for (const stream of open) stream.destroy()
      open.clear()
    },
  }
}

/**
 * The part of a ConnectionInfo that carries the listener's own connection limit, if it has one.
 * The count includes the connection asking, as the broker-wide check does.
 */
export function listenerLimit(
  streams: { readonly size: number },
  address: ListenAddress,
): Pick<ConnectionInfo, 'listenerConnections'> {
  const max = address.maxConnections
  return max === undefined ? {} : { listenerConnections: { max, open: () => streams.size } }
}

export function closeServer(server: { close(cb: (err?: Error) => void): unknown }): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * A listener over a `net`/`tls`/`http` server: `close()` stops accepting, cuts the streams it
 * accepted (after `beforeClose`, e.g. terminating WebSockets) and runs once however often called.
 */
export function serverListener(
  server: { close(cb: (err?: Error) => void): unknown },
  streams: { destroyAll(): void },
  where: { host: string; port: number; url: string },
  beforeClose?: () => Promise<void>,
): Listener {
  let closed: Promise<void> | undefined
  return {
    ...where,
    close: () => {
      closed ??= (async () => {
        const done = closeServer(server)
        streams.destroyAll()
        await beforeClose?.()
        await done
      })()
      return closed
    },
  }
}
