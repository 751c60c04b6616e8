import type { SecureContext } from 'node:tls'
import type { IConnackPacket, IPublishPacket } from 'mqtt-packet'
import type { Scheduler } from './scheduler.js'

/**
 * What every link of a fleet shares: where the broker is, the protocol settings and the one
 * scheduler. One object for all links, so a link holds a reference instead of a copy.
 */
export interface LinkConfig {
  readonly host: string
  readonly port: number
  /** `mqtts://`: TLS, with `ca` (PEM) as the trust anchor when given. */
  readonly tls: boolean
  readonly ca?: string
  /** TLS server name to check the certificate against; default `host` (none for an IP). */
  readonly servername?: string
  /**
   * A secure context built once from `ca` for links without a client certificate; links with one
   * build their own at connect time (the key is theirs).
   */
  readonly sharedSecureContext?: SecureContext
  readonly protocolVersion: 4 | 5
  /** Seconds; 0 turns keep-alive off. */
  readonly keepAliveS: number
  /** MQTT 5 session expiry interval in seconds (3.1.1 sessions last as long as the broker keeps them). */
  readonly sessionExpiryS: number
  /** Clean start (5) / clean session (3.1.1); false keeps the session across connections. */
  readonly cleanStart: boolean
  /** Time for TCP + TLS + CONNACK before the attempt counts as failed. */
  readonly connectTimeoutMs: number
  /** Most QoS 1 messages in flight (further capped by the broker's Receive Maximum). */
  readonly maxInflight: number
  /** Largest packet accepted from the broker; a larger one is a protocol error. */
  readonly maxIncomingBytes: number
  /** Bytes queued in the socket beyond which the broker counts as stalled and the link drops. */
  readonly maxBufferedBytes: number
  readonly scheduler: Scheduler
}

/** How a link proves who it is. */
export type LinkAuth =
  | { readonly kind: 'password'; readonly username: string; readonly password: string }
  | {
      readonly kind: 'certificate'
      readonly certificatePem: string
      readonly privateKeyPem: string
    }
  | { readonly kind: 'none' }

/** Why a connection attempt or a connection ended. */
export type LinkCloseCause =
  /** The broker refused the CONNECT; `reasonCode` is the CONNACK's. */
  | 'connack'
  /** The broker sent DISCONNECT (MQTT 5); `reasonCode` is its. */
  | 'server-disconnect'
  /** We sent DISCONNECT (`disconnect()`). */
  | 'local'
  /** `drop()`: the socket was destroyed without DISCONNECT (a fault, a power loss). */
  | 'dropped'
  /** No CONNACK within `connectTimeoutMs`. */
  | 'connect-timeout'
  /** No PINGRESP in time. */
  | 'keepalive-timeout'
  /** Bytes from the broker that are not MQTT, or a packet we did not expect. */
  | 'protocol-error'
  /** The broker did not read what we wrote (more than `maxBufferedBytes` queued). */
  | 'stalled'
  /** The socket failed (`code` holds e.g. ECONNREFUSED) or the broker closed it. */
  | 'socket'

/** What `LinkHandler.onLinkDown` is told. */
export interface LinkClose {
  readonly cause: LinkCloseCause
  /** CONNACK or DISCONNECT reason code (3.1.1 CONNACK return codes are passed as they are). */
  readonly reasonCode?: number
  /** Socket error code (ECONNREFUSED, ECONNRESET…), when there was one. */
  readonly code?: string
  readonly message?: string
  /** True when the link had a CONNACK before it closed. */
  readonly wasConnected: boolean
}

/**
 * Receives what happens on a link. One object per link (the simulated device implements it), so
 * a link holds one reference instead of an EventEmitter and its listener arrays.
 */
export interface LinkHandler {
  /** CONNACK with success; in-flight messages have been resent already. */
  onLinkUp(link: LinkRef, connack: IConnackPacket): void
  /** Once per `connect()` that returned true, when its socket has closed. */
  onLinkDown(link: LinkRef, close: LinkClose): void
  /** An incoming PUBLISH; a QoS 1 message is acknowledged after this returns. */
  onMessage(link: LinkRef, message: IPublishPacket): void
  /** PUBACK of one of our QoS 1 messages; `reasonCode` ≥ 0x80 is a refusal (MQTT 5). */
  onPuback(link: LinkRef, packetId: number, reasonCode: number, reason: string | undefined): void
  /** SUBACK: one granted QoS or failure code per filter, in order. */
  onSuback(link: LinkRef, packetId: number, granted: readonly number[]): void
}

/** The part of a link a handler may rely on. */
export interface LinkRef {
  readonly clientId: string
  readonly isConnected: boolean
  readonly inflightCount: number
}
