import {
  maxMqttPacketBytes,
  maxMqttPayloadBytes,
  type BrokerConfig,
  type LogDestination,
} from './broker-config-schema.js'
import {
  fail,
  once,
  parseBool,
  parseInteger,
  parseKeyword,
  parsePath,
  type ConfigLine,
} from './config-line.js'

const int32Max = 2_147_483_647

/** A `listener` block while its lines are read. */
export interface ListenerDraft {
  /** The `listener` line, for errors about the block as a whole. */
  readonly at: ConfigLine
  readonly port: number
  readonly host: string | undefined
  readonly seen: Map<string, string>
  protocol: 'mqtt' | 'websockets'
  ca?: string
  cert?: string
  key?: string
  requireCertificate?: boolean
  useIdentityAsUsername?: boolean
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  maxConnections?: number
  maxQos: 0 | 1 | 2
}

/** The whole config while its files are read. */
export interface ConfigDraft {
  readonly config: BrokerConfig
  readonly listeners: ListenerDraft[]
  readonly seen: Map<string, string>
  /** `log_type` values in file order. */
  readonly logTypes: string[]
  /** `log_dest` lines seen so far; undefined: none, Mosquitto's default (stderr) applies. */
  logDestinations: LogDestination[] | undefined
}

/** Per-file state: Mosquitto starts every included file outside any listener block. */
export interface FileState {
  listener: ListenerDraft | undefined
}

type Handler = (line: ConfigLine, draft: ConfigDraft, state: FileState) => void

// Each handler sets one field; `void (…)` keeps the one-line arrows returning nothing.
const globalOptions: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['allow_anonymous', (l, d) => void (d.config.allowAnonymous = parseBool(l))],
  ['per_listener_settings', perListenerSettings],
  ['password_file', (l, d) => void (d.config.passwordFile = parsePath(l))],
  ['acl_file', (l, d) => void (d.config.aclFile = parsePath(l))],
  ['persistence', (l, d) => void (d.config.persistence.enabled = parseBool(l))],
  ['persistence_location', (l, d) => void (d.config.persistence.location = parsePath(l))],
  ['max_packet_size', (l, d) => void (d.config.limits.maxPacketBytes = maxPacket(l))],
  ['message_size_limit', messageSizeLimit],
  ['max_inflight_messages', maxInflight],
  ['max_queued_messages', maxQueued],
  ['max_keepalive', (l, d) => void (d.config.limits.maxKeepaliveSec = parseInteger(l, 10, 65_535))],
  ['set_tcp_nodelay', (l, d) => void (d.config.tcpNoDelay = parseBool(l))],
  ['sys_interval', (l, d) => void (d.config.sysIntervalSec = parseInteger(l, 0, int32Max))],
  ['retain_available', (l, d) => void (d.config.retainAvailable = parseBool(l))],
])

/** Options that may repeat and accumulate. */
const repeatableOptions: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['log_dest', logDest],
  ['log_type', logType],
])

const listenerOptions: ReadonlyMap<string, (line: ConfigLine, l: ListenerDraft) => void> = new Map<
  string,
  (line: ConfigLine, l: ListenerDraft) => void
>([
  ['protocol', (line, l) => void (l.protocol = parseKeyword(line, ['mqtt', 'websockets']))],
  ['cafile', (line, l) => void (l.ca = parsePath(line))],
  ['certfile', (line, l) => void (l.cert = parsePath(line))],
  ['keyfile', (line, l) => void (l.key = parsePath(line))],
  ['require_certificate', (line, l) => void (l.requireCertificate = parseBool(line))],
  ['use_identity_as_username', (line, l) => void (l.useIdentityAsUsername = parseBool(line))],
  ['tls_version', tlsVersion],
  ['max_connections', maxConnections],
  ['max_qos', (line, l) => void (l.maxQos = parseInteger(line, 0, 2) as 0 | 1 | 2)],
])

/**
 * Applies one supported option to the draft. Returns false when the option is not one of ours
 * (the caller then reports it as unsupported or unknown).
 */
export function applyOption(line: ConfigLine, draft: ConfigDraft, state: FileState): boolean {
  if (line.option === 'listener') {
    state.listener = startListener(line, draft)
    return true
  }
  const global = globalOptions.get(line.option)
  if (global !== undefined) {
    once(draft.seen, line)
    global(line, draft, state)
    return true
  }
  const repeatable = repeatableOptions.get(line.option)
  if (repeatable !== undefined) {
    repeatable(line, draft, state)
    return true
  }
  const forListener = listenerOptions.get(line.option)
  if (forListener === undefined) return false
  const listener = state.listener
  if (listener === undefined) {
    return fail(
      line,
      `${line.option} configures a listener and must follow a "listener PORT" line in the same file`,
      'Add "listener 1883" (or your port) above it; Strata has no implicit default listener.',
    )
  }
  once(listener.seen, line, ` for the listener at ${listener.at.file}:${String(listener.at.line)}`)
  forListener(line, listener)
  return true
}

/** `listener PORT [BIND]` (mosquitto.conf(5) "Listeners"). */
function startListener(line: ConfigLine, draft: ConfigDraft): ListenerDraft {
  const [portText = '', host, ...rest] = line.value.split(/\s+/)
  if (portText === '' || rest.length > 0)
    fail(line, 'listener takes a port and an optional bind address')
  const port = parseInteger({ ...line, value: portText }, 0, 65_535)
  if (port === 0 && host !== undefined) {
    fail(
      line,
      `listener 0 ${host} is a unix socket listener, which Strata does not support`,
      'Use a TCP port; "listener 0" alone asks for a free port (for tests).',
      'unsupported',
    )
  }
  const listener: ListenerDraft = {
    at: line,
    port,
    host,
    seen: new Map(),
    protocol: 'mqtt',
    maxQos: 2,
  }
  const twin = draft.listeners.find((l) => l.port === port && l.host === host)
  if (twin !== undefined) {
    fail(
      line,
      `listener ${line.value} is declared twice (first at ${twin.at.file}:${String(twin.at.line)})`,
    )
  }
  draft.listeners.push(listener)
  return listener
}

function perListenerSettings(line: ConfigLine): void {
  if (parseBool(line)) {
    fail(
      line,
      'per_listener_settings true is not supported',
      'Strata applies allow_anonymous, password_file and acl_file to every listener; run one broker per set of security settings.',
      'unsupported',
    )
  }
}

function maxPacket(line: ConfigLine): number {
  // mosquitto.conf(5): "Setting below 20 bytes is forbidden".
  return parseInteger(line, 20, maxMqttPacketBytes)
}

function messageSizeLimit(line: ConfigLine, draft: ConfigDraft): void {
  // mosquitto.conf(5): "The default value is 0, which means that all valid MQTT messages are accepted."
  const n = parseInteger(line, 0, maxMqttPayloadBytes)
  if (n === 0) delete draft.config.limits.maxPayloadBytes
  else draft.config.limits.maxPayloadBytes = n
}

function maxInflight(line: ConfigLine, draft: ConfigDraft): void {
  // 0 is Mosquitto's "no maximum"; MQTT 5 caps Receive Maximum at 65,535, the same in practice.
  const n = parseInteger(line, 0, 65_535)
  draft.config.limits.maxInflightMessages = n === 0 ? 65_535 : n
}

function maxQueued(line: ConfigLine, draft: ConfigDraft): void {
  const n = parseInteger(line, 0, int32Max)
  if (n === 0) {
    fail(
      line,
      'max_queued_messages 0 (no maximum) is not supported',
      'Give a bound, e.g. 1000 (the default): every queue in Strata is bounded.',
      'unsupported',
    )
  }
  draft.config.limits.maxQueuedMessages = n
}

function tlsVersion(line: ConfigLine, listener: ListenerDraft): void {
  const v = parseKeyword(line, ['tlsv1.3', 'tlsv1.2', 'tlsv1.1'])
  if (v === 'tlsv1.1') {
    fail(line, 'tls_version tlsv1.1 is not supported', 'Use tlsv1.2 or tlsv1.3.', 'unsupported')
  }
  listener.minVersion = v === 'tlsv1.3' ? 'TLSv1.3' : 'TLSv1.2'
}

function maxConnections(line: ConfigLine, listener: ListenerDraft): void {
  // mosquitto.conf(5): "Set to -1 to have "unlimited" connections."
  const n = parseInteger(line, -1, int32Max)
  if (n === -1) delete listener.maxConnections
  else listener.maxConnections = n
}

/** `log_dest stdout|stderr|file PATH|none`; may repeat, `none` clears the list. */
function logDest(line: ConfigLine, draft: ConfigDraft): void {
  const [kind = ''] = line.value.split(/\s+/)
  const list = draft.logDestinations ?? []
  if (kind === 'file') {
    // mosquitto.conf(5): "Only a single file destination may be configured."
    if (list.some((d) => d.kind === 'file')) fail(line, 'only one log_dest file may be configured')
    const path = parsePath({ ...line, value: line.value.slice('file'.length).trim() })
    draft.logDestinations = [...list, { kind: 'file', path }]
    return
  }
  const dest = parseKeyword(line, ['stdout', 'stderr', 'none', 'syslog', 'topic', 'dlt'])
  if (dest === 'syslog' || dest === 'topic' || dest === 'dlt') {
    fail(
      line,
      `log_dest ${dest} is not supported`,
      'Use stdout, stderr or file PATH.',
      'unsupported',
    )
  }
  if (dest === 'none') draft.logDestinations = []
  else if (!list.some((d) => d.kind === dest)) draft.logDestinations = [...list, { kind: dest }]
  else draft.logDestinations = list
}

const logTypes = [
  'debug',
  'error',
  'warning',
  'notice',
  'information',
  'subscribe',
  'unsubscribe',
  'websockets',
  'none',
  'all',
] as const

function logType(line: ConfigLine, draft: ConfigDraft): void {
  draft.logTypes.push(parseKeyword(line, logTypes))
}
