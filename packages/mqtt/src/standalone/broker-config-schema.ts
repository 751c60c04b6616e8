import Type, { type Static } from 'typebox'

/** The largest MQTT packet: a 268,435,455-byte remaining length plus a 5-byte fixed header. */
export const maxMqttPacketBytes = 268_435_460
/** The largest MQTT payload (MQTT 5 §1.5.5 variable byte integer limit). */
export const maxMqttPayloadBytes = 268_435_455

/**
 * Pino level the `log_type` lines map to; `silent` for `log_type none` or `log_dest none`.
 *
 * @example
 * pino({ level: config.logLevel })
 */
export const BrokerLogLevel = Type.Union([
  Type.Literal('silent'),
  Type.Literal('error'),
  Type.Literal('warn'),
  Type.Literal('info'),
  Type.Literal('debug'),
])
export type BrokerLogLevel = Static<typeof BrokerLogLevel>

/**
 * Where logs go (`log_dest`): the console streams, or one file.
 *
 * @example
 * const dest: LogDestination = { kind: 'file', path: '/var/log/strata/broker.log' }
 */
export const LogDestination = Type.Union([
  Type.Object({ kind: Type.Literal('stdout') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('stderr') }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('file'), path: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
])
export type LogDestination = Static<typeof LogDestination>

/**
 * TLS settings of one listener (`certfile`, `keyfile`, `cafile`, `require_certificate`…).
 *
 * @example
 * const mutualTls: ListenerTlsConfig = { ca: '/etc/strata/ca.crt', cert: '/etc/strata/server.crt',
 *   key: '/etc/strata/server.key', requireCertificate: true, useIdentityAsUsername: true,
 *   minVersion: 'TLSv1.2' }
 */
export const ListenerTlsConfig = Type.Object(
  {
    /** PEM CA bundle client certificates are checked against (`cafile`). */
    ca: Type.Optional(Type.String({ minLength: 1 })),
    cert: Type.String({ minLength: 1 }),
    key: Type.String({ minLength: 1 }),
    /** The TLS handshake fails without a client certificate that chains to `ca`. */
    requireCertificate: Type.Boolean(),
    /** The certificate's CN is the MQTT user name; the password file is not consulted. */
    useIdentityAsUsername: Type.Boolean(),
    /** Lowest TLS version accepted (`tls_version`); Mosquitto's default allows 1.2 and 1.3. */
    minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')]),
  },
  { additionalProperties: false },
)
export type ListenerTlsConfig = Static<typeof ListenerTlsConfig>

/**
 * One `listener PORT [BIND]` block. Host and port are unique in a config.
 *
 * @example
 * const mqtts: ListenerConfig = {
 *   port: 8883,
 *   protocol: 'mqtt',
 *   maxQos: 2,
 *   tls: { cert: '/etc/strata/server.crt', key: '/etc/strata/server.key', requireCertificate: false,
 *          useIdentityAsUsername: false, minVersion: 'TLSv1.2' },
 * }
 */
export const ListenerConfig = Type.Object(
  {
    /** 0 asks the OS for a free port (a Strata extension for tests; Mosquitto has none). */
    port: Type.Integer({ minimum: 0, maximum: 65_535 }),
    /** Address or host name to bind; absent: every interface (Mosquitto's default). */
    host: Type.Optional(Type.String({ minLength: 1 })),
    protocol: Type.Union([Type.Literal('mqtt'), Type.Literal('websockets')]),
    tls: Type.Optional(ListenerTlsConfig),
    /** `max_connections`; absent: no limit (Mosquitto's -1). */
    maxConnections: Type.Optional(Type.Integer({ minimum: 0 })),
    /** `max_qos`: the highest QoS clients of this listener may use. */
    maxQos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)]),
  },
  { additionalProperties: false },
)
export type ListenerConfig = Static<typeof ListenerConfig>

/**
 * Global limits. Absent optional limits were not set in the file.
 *
 * @example
 * const maxPacketBytes = config.limits.maxPacketBytes ?? defaultBrokerLimits.maxPacketBytes
 */
export const BrokerConfigLimits = Type.Object(
  {
    /** `max_packet_size`; absent: Mosquitto has no limit below MQTT's, the broker's default applies. */
    maxPacketBytes: Type.Optional(Type.Integer({ minimum: 20, maximum: maxMqttPacketBytes })),
    /** `message_size_limit` (payload bytes); absent: as for `maxPacketBytes`. */
    maxPayloadBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: maxMqttPayloadBytes })),
    /** `max_inflight_messages`, outgoing QoS 1/2 messages in flight per client (default 20). */
    maxInflightMessages: Type.Integer({ minimum: 1, maximum: 65_535 }),
    /** `max_queued_messages` per client above those in flight (default 1000). */
    maxQueuedMessages: Type.Integer({ minimum: 1 }),
    /** `max_keepalive`, the longest keep alive an MQTT 5 client may use (default 65535). */
    maxKeepaliveSec: Type.Integer({ minimum: 10, maximum: 65_535 }),
  },
  { additionalProperties: false },
)
export type BrokerConfigLimits = Static<typeof BrokerConfigLimits>

/**
 * An option that was accepted but has no effect in Strata, for the CLI to warn about.
 *
 * @example
 * for (const i of config.ignored) log.warn(i, 'config option ignored')
 */
export const IgnoredOption = Type.Object(
  { option: Type.String(), where: Type.String(), reason: Type.String() },
  { additionalProperties: false },
)
export type IgnoredOption = Static<typeof IgnoredOption>

/**
 * What `strata broker --config FILE` runs with; paths are absolute.
 *
 * @example
 * const config: BrokerConfig = parseBrokerConfig(text, '/etc/strata/broker.conf')
 * for (const l of config.listeners) console.log(l.host ?? '*', l.port, l.tls ? 'tls' : 'plain')
 */
export const BrokerConfig = Type.Object(
  {
    listeners: Type.Array(ListenerConfig),
    /** Clients without a user name may connect (default false, BRIEF §6). */
    allowAnonymous: Type.Boolean(),
    passwordFile: Type.Optional(Type.String({ minLength: 1 })),
    aclFile: Type.Optional(Type.String({ minLength: 1 })),
    persistence: Type.Object(
      { enabled: Type.Boolean(), location: Type.Optional(Type.String({ minLength: 1 })) },
      { additionalProperties: false },
    ),
    limits: BrokerConfigLimits,
    /** `retain_available` (default true). */
    retainAvailable: Type.Boolean(),
    /** `set_tcp_nodelay` (default false). */
    tcpNoDelay: Type.Boolean(),
    /** `sys_interval`: seconds between `$SYS` updates, 0 disables them (default 10). */
    sysIntervalSec: Type.Integer({ minimum: 0 }),
    logLevel: BrokerLogLevel,
    logDestinations: Type.Array(LogDestination),
    ignored: Type.Array(IgnoredOption),
  },
  { additionalProperties: false },
)
export type BrokerConfig = Static<typeof BrokerConfig>

/**
 * The config without a file: no listeners (the CLI decides ports), anonymous access off, no
 * password or ACL file (so nobody can connect until the caller adds a way in), Mosquitto's
 * defaults for the rest.
 *
 * @example
 * const config = { ...defaultBrokerConfig, listeners: [cliListener] }
 */
export const defaultBrokerConfig: BrokerConfig = deepFreeze({
  listeners: [],
  allowAnonymous: false,
  persistence: { enabled: false },
  limits: { maxInflightMessages: 20, maxQueuedMessages: 1000, maxKeepaliveSec: 65_535 },
  retainAvailable: true,
  tcpNoDelay: false,
  sysIntervalSec: 10,
  logLevel: 'info',
  logDestinations: [{ kind: 'stderr' }],
  ignored: [],
})

/** Freezes a plain value and everything in it: the defaults are shared by every caller. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
