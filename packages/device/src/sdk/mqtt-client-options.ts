import type { IClientOptions } from 'mqtt'
import type { DeviceCredentials } from './device-client-options.js'

/** What a connection needs to know to dial the broker. */
export interface DialOptions {
  readonly url: URL
  readonly clientId: string
  readonly credentials: DeviceCredentials | { readonly username: string; readonly password: string }
  readonly caPem: string | undefined
  readonly protocolVersion: 4 | 5
  /** Persistent session: clean start false and this expiry (MQTT 5); absent: a clean session. */
  readonly sessionExpiryS: number | undefined
  readonly keepAliveS: number
  readonly connectTimeoutMs: number
}

/**
 * MQTT.js options for one device connection. MQTT.js never reconnects on its own
 * (`reconnectPeriod: 0`): the SDK schedules reconnects with jittered exponential backoff, which
 * MQTT.js's fixed period cannot do, and stops after refusals that retrying cannot fix.
 */
export function mqttClientOptions(dial: DialOptions): IClientOptions {
  const { url } = dial
  const tls = url.protocol === 'mqtts:'
  const persistent = dial.sessionExpiryS !== undefined
  const options: IClientOptions = {
    protocol: tls ? 'mqtts' : 'mqtt',
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (tls ? 8883 : 1883) : Number(url.port),
    clientId: dial.clientId,
    protocolVersion: dial.protocolVersion,
    clean: !persistent,
    keepalive: dial.keepAliveS,
    connectTimeout: dial.connectTimeoutMs,
    reconnectPeriod: 0,
    manualConnect: true,
    resubscribe: false,
    queueQoSZero: false,
    rejectUnauthorized: true,
  }
  if (dial.protocolVersion === 5 && persistent) {
    options.properties = { sessionExpiryInterval: dial.sessionExpiryS }
  }
  if (dial.caPem !== undefined) options.ca = dial.caPem
  const c = dial.credentials
  if ('token' in c) {
    options.username = dial.clientId
    options.password = c.token
  } else if ('username' in c) {
    options.username = c.username
    options.password = c.password
  } else {
    options.cert = c.certificatePem
    options.key = c.privateKeyPem
  }
  return options
}
