/**
 * The mosquitto.conf(5) options (Mosquitto 2.0) Strata does not implement. Each is refused with
 * its line, never skipped: most change who may connect or what they may see, and a broker that
 * ignored them would run with weaker security than the file asks for.
 */

const tlsHint =
  'Strata listeners support cafile, certfile, keyfile, require_certificate, use_identity_as_username and tls_version only.'
const authHint =
  'Strata authenticates with password_file, client certificates (use_identity_as_username) and allow_anonymous; authorisation with acl_file.'
const bridgeHint =
  'Bridges are not supported; run Mosquitto as the bridge, or connect the two brokers with a client.'
const listenerHint =
  'Declare each port with "listener PORT [BIND]"; Strata has no implicit default listener.'

/** Option → what to do instead. */
export const unsupportedOptions: ReadonlyMap<string, string> = new Map([
  ['allow_zero_length_clientid', 'Strata decides client id assignment itself; remove the line.'],
  ['auth_plugin', authHint],
  ['auth_plugin_deny_special_chars', authHint],
  ['plugin', authHint],
  ['global_plugin', authHint],
  ['psk_file', 'Pre-shared-key TLS is not supported; use certificates.'],
  ['psk_hint', 'Pre-shared-key TLS is not supported; use certificates.'],
  ['auto_id_prefix', 'Strata decides client id assignment itself; remove the line.'],
  ['check_retain_source', 'Retained messages are checked against the ACL of the subscriber only.'],
  ['clientid_prefixes', 'Restrict clients with acl_file patterns (%c) instead.'],
  ['use_username_as_clientid', 'Not supported; use %u patterns in acl_file instead.'],
  ['use_subject_as_username', 'Use use_identity_as_username (the certificate CN) instead.'],
  ['capath', 'Concatenate the CA certificates into one PEM file and name it with cafile.'],
  ['crlfile', 'Certificate revocation lists are not supported; revoke by removing the CA or user.'],
  ['ciphers', tlsHint],
  ['ciphers_tls1.3', tlsHint],
  ['dhparamfile', tlsHint],
  ['tls_engine', tlsHint],
  ['tls_engine_kpass_sha1', tlsHint],
  ['tls_keyform', tlsHint],
  ['require_ocsp', tlsHint],
  ['port', listenerHint],
  ['bind_address', listenerHint],
  ['bind_interface', 'Bind to an address with "listener PORT ADDRESS" instead.'],
  ['socket_domain', 'Bind to an IPv4 or IPv6 address with "listener PORT ADDRESS" instead.'],
  ['mount_point', 'Mount points are not supported; give clients separate ACL prefixes instead.'],
  ['http_dir', 'The websockets listener serves MQTT only.'],
  ['max_topic_alias', 'Not configurable; remove the line.'],
  ['max_inflight_bytes', 'Use max_inflight_messages instead.'],
  ['max_queued_bytes', 'Use max_queued_messages instead.'],
  ['memory_limit', 'Not supported; limit the process memory with your service manager.'],
  ['persistent_client_expiration', 'Not configurable yet; remove the line.'],
  ['queue_qos0_messages', 'Not supported; QoS 0 messages are not queued for offline clients.'],
  ['upgrade_outgoing_qos', 'Not supported; messages keep their QoS as MQTT requires.'],
  ['user', 'Strata does not change user; start it as the user it should run as.'],
  ['retry_interval', 'Not configurable; remove the line.'],
  ['store_clean_interval', 'Not configurable; remove the line.'],
  ['accept_protocol_versions', 'Not configurable; Strata accepts MQTT 3.1.1 and 5.'],
  ['enable_control_api', 'Not supported; remove the line.'],
  ...[
    'connection',
    'address',
    'addresses',
    'topic',
    'bridge_attempt_unsubscribe',
    'bridge_bind_address',
    'bridge_max_packet_size',
    'bridge_outgoing_retain',
    'bridge_protocol_version',
    'bridge_receive_maximum',
    'bridge_session_expiry_interval',
    'bridge_max_topic_alias',
    'cleansession',
    'local_cleansession',
    'keepalive_interval',
    'idle_timeout',
    'local_clientid',
    'local_password',
    'local_username',
    'notifications',
    'notifications_local_only',
    'notification_topic',
    'remote_clientid',
    'remote_password',
    'remote_username',
    'restart_timeout',
    'round_robin',
    'start_type',
    'threshold',
    'try_private',
    'bridge_alpn',
    'bridge_cafile',
    'bridge_capath',
    'bridge_certfile',
    'bridge_identity',
    'bridge_insecure',
    'bridge_keyfile',
    'bridge_psk',
    'bridge_require_ocsp',
    'bridge_tls_version',
  ].map((option): [string, string] => [option, bridgeHint]),
])

/** Prefixes of per-plugin options (`auth_opt_*`, `plugin_opt_*`). */
export const unsupportedPrefixes: readonly string[] = ['auth_opt_', 'plugin_opt_']

/**
 * Options that change nothing Strata does and nothing about security: accepted, reported in
 * `BrokerConfig.ignored` so the CLI can say so, so that stock Debian and Docker configs load.
 */
export const ignoredOptions: ReadonlyMap<string, string> = new Map([
  ['pid_file', 'Strata writes no pid file; your service manager tracks the process.'],
  ['log_timestamp', 'Strata logs are JSON lines that always carry a timestamp.'],
  ['log_timestamp_format', 'Strata logs are JSON lines with epoch-ms timestamps.'],
  ['log_facility', 'Strata does not log to syslog.'],
  ['connection_messages', 'Connections are logged at info level; use log_type to change it.'],
  ['autosave_interval', 'Strata persists changes as they happen.'],
  ['autosave_on_changes', 'Strata persists changes as they happen.'],
  ['persistence_file', 'Strata names its own store inside persistence_location.'],
  ['websockets_log_level', 'The websockets library logs through the broker log.'],
  ['websockets_headers_size', 'The websockets library sizes its header buffer itself.'],
  ['allow_duplicate_messages', 'Deprecated in Mosquitto; Strata behaves as its default (true).'],
])

/** The hint for an unsupported option, or undefined when Strata supports or ignores it. */
export function unsupportedHint(option: string): string | undefined {
  const hint = unsupportedOptions.get(option)
  if (hint !== undefined) return hint
  return unsupportedPrefixes.some((p) => option.startsWith(p)) ? authHint : undefined
}
