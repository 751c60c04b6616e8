import type {
  AuthenticateResult,
  AuthorizeResult,
  BrokerHooks,
  ClientInfo,
  ConnectContext,
} from '../hooks/broker-hooks.js'
import { loadAclFile } from './acl-file.js'
import type { AclClient, AclRules } from './acl-rules.js'
import type { BrokerConfig, ListenerConfig } from './broker-config-schema.js'
import { ConfigError } from './config-error.js'
import { matchListener } from './listener-match.js'
import { loadPasswordFile, type PasswordDb } from './password-file.js'

/** MQTT 5 CONNACK reason codes the hooks answer with (MQTT 5 §3.2.2.2). */
const badUserNameOrPassword = 0x86
const notAuthorized = 0x87

/**
 * What the standalone hooks check against: the loaded `password_file` and `acl_file`.
 *
 * @example
 * const deps: StandaloneDeps = { passwords: await loadPasswordFile(config.passwordFile) }
 */
export interface StandaloneDeps {
  readonly passwords?: PasswordDb
  readonly acl?: AclRules
  /**
   * The configured listener behind a `ConnectContext.listener` URL. Absent: {@link matchListener}
   * (by transport, host and port), which cannot place port-0 listeners; the CLI can fill a map
   * from each `Listener.url` it opens instead.
   */
  readonly listenerOf?: (url: string) => ListenerConfig | undefined
}

/**
 * Loads the password and ACL files a config names, for {@link createStandaloneHooks}.
 *
 * @example
 * const hooks = createStandaloneHooks(config, await loadStandaloneDeps(config))
 */
export async function loadStandaloneDeps(config: BrokerConfig): Promise<StandaloneDeps> {
  const passwords =
    config.passwordFile === undefined ? undefined : await loadPasswordFile(config.passwordFile)
  const acl = config.aclFile === undefined ? undefined : await loadAclFile(config.aclFile)
  return {
    ...(passwords === undefined ? {} : { passwords }),
    ...(acl === undefined ? {} : { acl }),
  }
}

/**
 * The broker hooks of `strata broker --config FILE`, with Mosquitto's semantics:
 *
 * - On a listener with `use_identity_as_username`, the client certificate's CN is the user name,
 *   only when the certificate chains to `cafile` (`tls.authorized`); the MQTT user name and
 *   password are not looked at (mosquitto.conf(5)).
 * - Otherwise a client with a user name must match the password file (0x86 if not). Without a
 *   password file a user name cannot be checked and is refused (Mosquitto would take it on
 *   trust when anonymous access is on, and let it pick any `user` section of the ACL).
 * - A client without a user name connects only when `allow_anonymous` is true (0x87 if not).
 * - PUBLISH and SUBSCRIBE are checked against the ACL file when there is one (0x87 when denied).
 *   Without an ACL file every authenticated client may publish and subscribe to every topic, as
 *   in Mosquitto: give an `acl_file` to restrict them.
 *
 * The identity id is the user name, or `anonymous:CLIENTID`. A connection whose listener URL
 * matches no configured listener (see `deps.listenerOf`) is refused: it fails closed.
 *
 * @throws ConfigError `MQTT_CONFIG_INVALID` when the config names a password or ACL file that
 *   `deps` does not carry: running without them would let everyone in, or everyone everywhere.
 * @example
 * const config = await loadBrokerConfig('/etc/strata/broker.conf')
 * const hooks = createStandaloneHooks(config, await loadStandaloneDeps(config))
 */
export function createStandaloneHooks(config: BrokerConfig, deps: StandaloneDeps): BrokerHooks {
  if (config.passwordFile !== undefined && deps.passwords === undefined) {
    throw missing('password_file', config.passwordFile)
  }
  if (config.aclFile !== undefined && deps.acl === undefined) {
    throw missing('acl_file', config.aclFile)
  }
  const listenerOf = deps.listenerOf ?? ((url: string) => matchListener(config.listeners, url))
  const hooks: BrokerHooks = {
    authenticate: (context) => authenticate(config, deps, listenerOf(context.listener), context),
  }
  const acl = deps.acl
  if (acl === undefined) return hooks
  return {
    ...hooks,
    authorizePublish: (client, topic) =>
      decide(acl.canPublish(aclClient(client), topic), 'publish'),
    authorizeSubscribe: (client, filter) =>
      decide(acl.canSubscribe(aclClient(client), filter), 'subscribe'),
  }
}

async function authenticate(
  config: BrokerConfig,
  deps: StandaloneDeps,
  listener: ListenerConfig | undefined,
  context: ConnectContext,
): Promise<AuthenticateResult> {
  if (listener === undefined) return refuse(notAuthorized, 'unknown listener')
  const tls = listener.tls
  // Defence in depth: the TLS layer already refuses these when the listener is set up right.
  if (tls?.requireCertificate === true && context.tls?.authorized !== true) {
    return refuse(notAuthorized, 'a trusted client certificate is required')
  }
  if (tls?.useIdentityAsUsername === true) return certificateIdentity(context)
  if (context.username !== undefined) return passwordIdentity(deps, context)
  if (!config.allowAnonymous) return refuse(notAuthorized, 'anonymous access is not allowed')
  return {
    ok: true,
    identity: {
      id: `anonymous:${context.clientId}`,
      attributes: { listener: context.listener, method: 'anonymous' },
    },
  }
}

function certificateIdentity(context: ConnectContext): AuthenticateResult {
  const cn = commonName(context.tls?.peerCertificate)
  // Node gives an array when the subject has several CNs: which one is the user is ambiguous.
  if (typeof cn !== 'string' || cn === '') {
    return refuse(notAuthorized, 'the client certificate has no single common name')
  }
  return {
    ok: true,
    identity: {
      id: cn,
      username: cn,
      attributes: { listener: context.listener, method: 'certificate' },
    },
  }
}

/** The subject CN; Node gives `{}` for a missing certificate, so nothing is assumed present. */
function commonName(certificate: unknown): unknown {
  if (typeof certificate !== 'object' || certificate === null) return undefined
  const subject: unknown = (certificate as { subject?: unknown }).subject
  if (typeof subject !== 'object' || subject === null) return undefined
  return (subject as { CN?: unknown }).CN
}

async function passwordIdentity(
  deps: StandaloneDeps,
  context: ConnectContext,
): Promise<AuthenticateResult> {
  const username = context.username ?? ''
  if (deps.passwords === undefined) {
    return refuse(badUserNameOrPassword, 'no password_file to check the user name against')
  }
  // Verify even without a password, so the answer takes as long as for a wrong one.
  const ok = await deps.passwords.verify(username, context.password ?? new Uint8Array())
  if (!ok || context.password === undefined) {
    return refuse(badUserNameOrPassword, 'bad user name or password')
  }
  return {
    ok: true,
    identity: {
      id: username,
      username,
      attributes: { listener: context.listener, method: 'password' },
    },
  }
}

function aclClient(client: ClientInfo): AclClient {
  return { clientId: client.clientId, username: client.identity.username }
}

function decide(allowed: boolean, what: string): AuthorizeResult {
  return allowed
    ? { allowed: true }
    : { allowed: false, reasonCode: notAuthorized, reason: `${what} denied by acl_file` }
}

function refuse(reasonCode: number, reason: string): AuthenticateResult {
  return { ok: false, reasonCode, reason }
}

function missing(option: string, path: string): ConfigError {
  return new ConfigError(
    'MQTT_CONFIG_INVALID',
    `the config names ${option} ${path}, but it was not loaded`,
    { hint: 'Pass the loaded file to createStandaloneHooks (see loadStandaloneDeps).' },
  )
}
