import { isDeviceId, telemetryLimits } from '@strata/protocol'
import type { Logger } from 'pino'
import { DeviceError } from '../errors.js'
import { defaultBackoffOptions, type BackoffOptions } from '../shared/backoff.js'

/** How a device proves who it is: its token (MQTT password) or its certificate and key (mTLS). */
export type DeviceCredentials =
  { readonly token: string } | { readonly certificatePem: string; readonly privateKeyPem: string }

/** What `createDeviceClient` accepts. Only `url`, `deviceId` and `credentials` are required. */
export interface DeviceClientOptions {
  /** `mqtt://host:port` (token only) or `mqtts://host:port` (token or certificate). */
  readonly url: string
  /** The device id: the MQTT client id and, with a token, the user name. */
  readonly deviceId: string
  readonly credentials: DeviceCredentials
  /** CA certificates (PEM) to trust for `mqtts://`; absent: the system's trust store. */
  readonly caPem?: string
  /** How long the broker keeps the session (subscriptions, queued commands) while offline. */
  readonly sessionExpiryS?: number
  readonly keepAliveS?: number
  /** MQTT 5 (default) or 3.1.1. */
  readonly protocolVersion?: 4 | 5
  /** Encoding of telemetry messages. */
  readonly format?: 'json' | 'cbor'
  /** Most records in one telemetry message. */
  readonly batchMaxRecords?: number
  /** Longest a record waits for others before its message leaves. */
  readonly batchMaxDelayMs?: number
  /** Most telemetry records held while offline (or waiting); beyond it the oldest are dropped. */
  readonly bufferMaxRecords?: number
  /** Most other messages (twin, events, command replies…) waiting for a connection. */
  readonly outboxMaxMessages?: number
  /** Waits between reconnects: exponential with jitter, capped. */
  readonly reconnect?: Partial<BackoffOptions>
  /** A connection that lasted this long resets the backoff to its first step. */
  readonly stableAfterMs?: number
  /** How long one connect attempt may take before it counts as failed. */
  readonly connectTimeoutMs?: number
  /** How long `close()` waits for buffered messages to be acknowledged. */
  readonly closeTimeoutMs?: number
  /** How long `twin.get()` waits for the document. */
  readonly requestTimeoutMs?: number
}

/** Collaborators; all optional. */
export interface DeviceClientDeps {
  /** Epoch ms; stamps telemetry records sent without a time. Default `Date.now`. */
  readonly clock?: () => number
  /** In [0, 1); jitters reconnect waits. Default `Math.random`. */
  readonly random?: () => number
  readonly logger?: Logger
}

/** The options with every default filled in and every value checked. */
export interface ResolvedDeviceClientOptions {
  readonly url: URL
  readonly deviceId: string
  readonly credentials: DeviceCredentials
  readonly caPem: string | undefined
  readonly sessionExpiryS: number
  readonly keepAliveS: number
  readonly protocolVersion: 4 | 5
  readonly format: 'json' | 'cbor'
  readonly batchMaxRecords: number
  readonly batchMaxDelayMs: number
  readonly bufferMaxRecords: number
  readonly outboxMaxMessages: number
  readonly reconnect: BackoffOptions
  readonly stableAfterMs: number
  readonly connectTimeoutMs: number
  readonly closeTimeoutMs: number
  readonly requestTimeoutMs: number
}

/** The defaults of every optional setting. */
export const defaultDeviceClientOptions = {
  sessionExpiryS: 7 * 24 * 3600,
  keepAliveS: 60,
  protocolVersion: 5,
  format: 'json',
  batchMaxRecords: 500,
  batchMaxDelayMs: 1_000,
  bufferMaxRecords: 10_000,
  outboxMaxMessages: 1_000,
  reconnect: defaultBackoffOptions,
  stableAfterMs: 60_000,
  connectTimeoutMs: 30_000,
  closeTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
} as const satisfies Omit<ResolvedDeviceClientOptions, 'url' | 'deviceId' | 'credentials' | 'caPem'>

/** Checks what a user can get wrong and fills in the defaults; throws `DEVICE_CLIENT_OPTIONS_INVALID`. */
export function resolveDeviceClientOptions(
  options: DeviceClientOptions,
): ResolvedDeviceClientOptions {
  const d = defaultDeviceClientOptions
  const url = parseBrokerUrl(options.url)
  if (typeof options.deviceId !== 'string' || !isDeviceId(options.deviceId)) {
    throw invalid(
      `deviceId ${JSON.stringify(options.deviceId)} is not a device id`,
      'A device id is 1–64 of A–Z a–z 0–9 . _ : -, starting with a letter or digit.',
    )
  }
  checkCredentials(options.credentials, url)
  const reconnect = { ...d.reconnect, ...options.reconnect }
  positive('reconnect.initialMs', reconnect.initialMs)
  positive('reconnect.maxMs', reconnect.maxMs)
  if (!(reconnect.factor >= 1)) throw invalid('reconnect.factor must be at least 1', 'Use 2.')
  // Checked at run time too: JavaScript callers and config files bypass the types.
  const protocolVersion: unknown = options.protocolVersion ?? d.protocolVersion
  if (protocolVersion !== 4 && protocolVersion !== 5) {
    throw invalid(
      `protocolVersion ${String(protocolVersion)} is not 4 or 5`,
      'Use 5 (MQTT 5) or 4 (MQTT 3.1.1).',
    )
  }
  const format: unknown = options.format ?? d.format
  if (format !== 'json' && format !== 'cbor') {
    throw invalid(`format ${String(format)} is not json or cbor`, "Use 'json' or 'cbor'.")
  }
  const batchMaxRecords = integer(
    'batchMaxRecords',
    options.batchMaxRecords ?? d.batchMaxRecords,
    1,
    telemetryLimits.maxRecords,
  )
  const bufferMaxRecords = integer(
    'bufferMaxRecords',
    options.bufferMaxRecords ?? d.bufferMaxRecords,
    1,
    10_000_000,
  )
  return {
    url,
    deviceId: options.deviceId,
    credentials: options.credentials,
    caPem: options.caPem,
    sessionExpiryS: integer(
      'sessionExpiryS',
      options.sessionExpiryS ?? d.sessionExpiryS,
      0,
      0xffff_ffff,
    ),
    keepAliveS: integer('keepAliveS', options.keepAliveS ?? d.keepAliveS, 0, 0xffff),
    protocolVersion,
    format,
    batchMaxRecords,
    batchMaxDelayMs: integer(
      'batchMaxDelayMs',
      options.batchMaxDelayMs ?? d.batchMaxDelayMs,
      0,
      3_600_000,
    ),
    bufferMaxRecords,
    outboxMaxMessages: integer(
      'outboxMaxMessages',
      options.outboxMaxMessages ?? d.outboxMaxMessages,
      1,
      1_000_000,
    ),
    reconnect,
    stableAfterMs: integer(
      'stableAfterMs',
      options.stableAfterMs ?? d.stableAfterMs,
      0,
      86_400_000,
    ),
    connectTimeoutMs: integer(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? d.connectTimeoutMs,
      1,
      600_000,
    ),
    closeTimeoutMs: integer(
      'closeTimeoutMs',
      options.closeTimeoutMs ?? d.closeTimeoutMs,
      0,
      600_000,
    ),
    requestTimeoutMs: integer(
      'requestTimeoutMs',
      options.requestTimeoutMs ?? d.requestTimeoutMs,
      1,
      600_000,
    ),
  }
}

/** Parses `mqtt://host:port` or `mqtts://host:port`; the port defaults to 1883 / 8883. */
export function parseBrokerUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch (err) {
    throw invalid(
      `url ${JSON.stringify(text)} is not a URL`,
      'Give the broker as mqtt://host:port or mqtts://host:port.',
      err,
    )
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    throw invalid(
      `url ${text} is not mqtt:// or mqtts://`,
      'Give the broker as mqtt://host:port or mqtts://host:port (WebSocket is not supported).',
    )
  }
  if (url.hostname === '')
    throw invalid(`url ${text} names no host`, 'Give the broker as mqtt://host:port.')
  if (url.username !== '' || url.password !== '') {
    throw invalid(
      `url ${url.protocol}//…@${url.host} carries credentials`,
      'Pass the token in credentials, never in the URL (URLs end up in logs).',
    )
  }
  return url
}

function checkCredentials(credentials: unknown, url: URL): void {
  if (typeof credentials !== 'object' || credentials === null) {
    throw invalid('credentials are missing', 'Pass { token } or { certificatePem, privateKeyPem }.')
  }
  if ('token' in credentials) {
    if (typeof credentials.token !== 'string' || credentials.token === '') {
      throw invalid('credentials.token is empty', 'Pass the device token the registry issued.')
    }
    return
  }
  const { certificatePem, privateKeyPem } = credentials as Record<string, unknown>
  if (!isPem(certificatePem, 'CERTIFICATE') || !isPem(privateKeyPem, 'PRIVATE KEY')) {
    throw invalid(
      'credentials must be { token } or PEM { certificatePem, privateKeyPem }',
      'Pass the certificate and key saved by provisioning (loadIdentity).',
    )
  }
  if (url.protocol !== 'mqtts:') {
    throw invalid(
      `a client certificate needs TLS, but the url is ${url.protocol}//`,
      'Use the mqtts:// URL of the broker.',
    )
  }
}

function isPem(value: unknown, label: string): boolean {
  return (
    typeof value === 'string' && value.includes('-----BEGIN ') && value.includes(`${label}-----`)
  )
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(
      `${name} ${String(value)} is not an integer in ${String(min)} … ${String(max)}`,
      `Set ${name} within ${String(min)} … ${String(max)}, or leave it out for the default.`,
    )
  }
  return value
}

function positive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw invalid(`${name} ${String(value)} is not a positive number`, `Set ${name} above 0.`)
  }
}

function invalid(message: string, hint: string, cause?: unknown): DeviceError {
  return new DeviceError(
    'DEVICE_CLIENT_OPTIONS_INVALID',
    message,
    cause === undefined ? { hint } : { hint, cause },
  )
}
