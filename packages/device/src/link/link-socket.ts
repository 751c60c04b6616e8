import net from 'node:net'
import tls from 'node:tls'
import type { LinkAuth, LinkConfig } from './link-types.js'

/** What a socket reports to the link that owns it. */
export interface SocketOwner {
  handleData(chunk: Buffer): void
  handleSocketError(err: NodeJS.ErrnoException): void
  handleSocketClose(socket: net.Socket): void
}

const kOwner = Symbol('strata.link')

/** A socket that knows its link. Cleared when the socket closes or is abandoned. */
type OwnedSocket = net.Socket & { [kOwner]?: SocketOwner | undefined }

// Three listener functions for every socket of the process: each finds its link through the
// socket (`this` is the emitter), so a connection costs no closures. Measured hot path: this is
// what lets 10,000 devices share one process (see bench/fleet).
function onData(this: OwnedSocket, chunk: Buffer): void {
  this[kOwner]?.handleData(chunk)
}

function onError(this: OwnedSocket, err: NodeJS.ErrnoException): void {
  this[kOwner]?.handleSocketError(err)
}

function onClose(this: OwnedSocket): void {
  const owner = this[kOwner]
  this[kOwner] = undefined
  owner?.handleSocketClose(this)
}

/**
 * Opens a TCP or TLS connection to the configured broker. Bytes written before it is connected
 * are buffered by Node and sent once it is, so the CONNECT can be written at once.
 */
export function openSocket(config: LinkConfig, auth: LinkAuth, owner: SocketOwner): net.Socket {
  let socket: OwnedSocket
  if (config.tls) {
    const options: tls.ConnectionOptions = {
      host: config.host,
      port: config.port,
      ...(config.servername === undefined ? {} : { servername: config.servername }),
    }
    if (auth.kind === 'certificate') {
      socket = tls.connect({
        ...options,
        cert: auth.certificatePem,
        key: auth.privateKeyPem,
        ...(config.ca === undefined ? {} : { ca: config.ca }),
      })
    } else if (config.sharedSecureContext !== undefined) {
      socket = tls.connect({ ...options, secureContext: config.sharedSecureContext })
    } else {
      socket = tls.connect({ ...options, ...(config.ca === undefined ? {} : { ca: config.ca }) })
    }
  } else {
    socket = net.connect({ host: config.host, port: config.port })
  }
  socket.setNoDelay(true)
  socket[kOwner] = owner
  socket.on('data', onData)
  socket.on('error', onError)
  socket.on('close', onClose)
  return socket
}

/** True while `socket` still reports to `owner`. */
export function isOwnedBy(socket: net.Socket, owner: SocketOwner): boolean {
  return (socket as OwnedSocket)[kOwner] === owner
}
