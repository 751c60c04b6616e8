import type { PeerCertificate } from 'node:tls'
import type { BrokerMessage } from '../message.js'

/** What `onPublish` answers: nothing (accept), a reason code, or a reason code with its reason string. */
export type PublishVerdict =
  number | { readonly reasonCode: number; readonly reason?: string } | undefined

/** Who a connection proved to be; returned by `authenticate`, passed to every other hook. */
export interface ClientIdentity {
  /** A stable id of the principal (a device id, a user name): `broker.disconnectIdentity` uses it. */
  readonly id: string
  /** The MQTT user name the identity stands for, for ACL patterns (`%u`). */
  readonly username?: string
  /** Anything the platform wants to keep with the connection (tenant, roles, device kind…). */
  readonly attributes?: Readonly<Record<string, unknown>>
}

/** What `authenticate` sees of a CONNECT and its transport. */
export interface ConnectContext {
  readonly clientId: string
  readonly protocolVersion: 3 | 4 | 5
  readonly username?: string
  readonly password?: Uint8Array
  readonly remoteAddress: string
  /** Present on TLS listeners. `authorized` is true when the client certificate chains to a trusted CA. */
  readonly tls?: { readonly authorized: boolean; readonly peerCertificate?: PeerCertificate }
  /** MQTT 5 enhanced authentication method, when the client named one. */
  readonly authenticationMethod?: string
  readonly listener: string
}

/** The answer of `authenticate`: an identity, or the CONNACK reason code to refuse with. */
export type AuthenticateResult =
  | { readonly ok: true; readonly identity: ClientIdentity }
  | {
      readonly ok: false
      /** MQTT 5 CONNACK reason code (0x86 bad user name or password, 0x87 not authorized, 0x8C bad authentication method…); mapped to 3.1.1 return codes. */
      readonly reasonCode: number
      readonly reason?: string
    }

/** The connected client a hook is asked about. */
export interface ClientInfo {
  readonly clientId: string
  readonly identity: ClientIdentity
  readonly protocolVersion: 3 | 4 | 5
}

/**
 * The answer of an authorisation hook. `reasonCode` defaults to 0x87 (not authorized). A
 * subscription may be granted at a lower QoS than asked with `maxQos` (MQTT 5 §3.9.3: the SUBACK
 * carries the QoS granted); publish hooks ignore it.
 */
export type AuthorizeResult =
  | { readonly allowed: true; readonly maxQos?: 0 | 1 | 2 }
  | { readonly allowed: false; readonly reasonCode?: number; readonly reason?: string }

/**
 * What the platform plugs into the broker. Every hook is optional except `authenticate`: there is
 * no anonymous default. Authorisation hooks are synchronous because they run for every PUBLISH and
 * every filter of every SUBSCRIBE.
 */
export interface BrokerHooks {
  authenticate(context: ConnectContext): Promise<AuthenticateResult> | AuthenticateResult
  /** Asked for every PUBLISH (topic already validated); absent: allowed. */
  authorizePublish?(
    client: ClientInfo,
    topic: string,
    qos: 0 | 1 | 2,
    retain: boolean,
  ): AuthorizeResult
  /** Asked for every filter of every SUBSCRIBE, `$share/` prefix included; absent: allowed. */
  authorizeSubscribe?(client: ClientInfo, filter: string, qos: 0 | 1 | 2): AuthorizeResult
  /**
   * Called for every message a client published, after authorisation and before it is routed.
   * The PUBACK waits for it, so ingestion can apply backpressure; resolving to a reason code
   * (e.g. 0x99 payload format invalid) refuses the message with it (MQTT 5) or drops it (3.1.1);
   * a `{ reasonCode, reason }` also sends the reason string (MQTT 5).
   */
  onPublish?(client: ClientInfo, message: BrokerMessage): Promise<PublishVerdict> | PublishVerdict
  /** A client's session began (after CONNACK was sent). */
  onConnect?(client: ClientInfo): void
  /** A client's connection ended, with why. */
  onDisconnect?(client: ClientInfo, reason: string): void
}
