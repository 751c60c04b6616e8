import type { PeerCertificate } from 'node:tls'

/** What the listener knows about a connection before any MQTT byte. */
export interface ConnectionInfo {
  readonly remoteAddress: string
  /** The listener's name, e.g. `mqtt://127.0.0.1:1883`, for logs and the authenticate hook. */
  readonly listener: string
  readonly tls?: { readonly authorized: boolean; readonly peerCertificate?: PeerCertificate }
  /**
   * The listener's own connection limit (`ListenAddress.maxConnections`) and how many connections
   * it holds now, this one included; absent when it has none.
   */
  readonly listenerConnections?: { readonly max: number; open(): number }
}
