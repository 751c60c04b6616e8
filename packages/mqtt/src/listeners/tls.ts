import { createServer, type TLSSocket } from 'node:tls'
import type { Broker } from '../broker/create-broker.js'
import { MqttError } from '../errors.js'
import {
  serverListener,
  listenOn,
  listenerLimit,
  trackStreams,
  type ListenAddress,
  type Listener,
} from './listener.js'

/** Key material of a TLS listener, PEM. With `ca` and `requireClientCertificate`, mutual TLS. */
export interface TlsSettings {
  readonly key: string | Buffer
  readonly cert: string | Buffer
  /** CAs that client certificates must chain to. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[]
  /** Refuse the handshake without a valid client certificate (mutual TLS). */
  readonly requireClientCertificate?: boolean
  /** Certificate revocation lists checked against client certificates. */
  readonly crl?: string | Buffer | readonly (string | Buffer)[]
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3'
}

/**
 * Serves MQTT over TLS (mqtts). The client certificate, when there is one, reaches the
 * authenticate hook with whether it chains to a trusted CA.
 *
 * @example
 * await listenTls(broker, { port: 0, tls: { key, cert, ca, requireClientCertificate: true } })
 */
export async function listenTls(
  broker: Broker,
  address: ListenAddress & { readonly tls: TlsSettings; readonly flagHint?: string },
): Promise<Listener> {
  const streams = trackStreams()
  const limit = listenerLimit(streams, address)
  let server: ReturnType<typeof createServer>
  try {
    server = createServer(
      {
        key: address.tls.key,
        cert: address.tls.cert,
        ...(address.tls.ca === undefined
          ? {}
          : { ca: address.tls.ca as string | Buffer | (string | Buffer)[] }),
        ...(address.tls.crl === undefined
          ? {}
          : { crl: address.tls.crl as string | Buffer | (string | Buffer)[] }),
        requestCert: address.tls.ca !== undefined,
        rejectUnauthorized: address.tls.requireClientCertificate === true,
        minVersion: address.tls.minVersion ?? 'TLSv1.2',
      },
      (socket: TLSSocket) => {
        socket.setNoDelay(true)
        streams.add(socket)
        const peer = socket.getPeerCertificate()
        const hasPeer = typeof peer === 'object' && Object.keys(peer).length > 0
        broker.handle(socket, {
          remoteAddress: socket.remoteAddress ?? 'unknown',
          listener: url,
          ...limit,
          tls: { authorized: socket.authorized, ...(hasPeer ? { peerCertificate: peer } : {}) },
        })
      },
    )
  } catch (cause) {
    throw new MqttError(
      'MQTT_TLS_INVALID',
      `cannot load the TLS key, certificate or CA: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        hint: 'Check that the files are PEM and that the key matches the certificate.',
        cause,
      },
    )
  }
  const { host, port } = await listenOn(
    server,
    address,
    'MQTTS',
    address.flagHint ?? '--mqtts-port',
  )
  const url = `mqtts://${host}:${String(port)}`
  return serverListener(server, streams, { host, port, url })
}
