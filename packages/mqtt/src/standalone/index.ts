/**
 * The standalone mode of the MQTT server: what `strata broker --config FILE` needs to stand in
 * for Mosquitto — its config file, password file and ACL file, and the broker hooks built on them.
 */
export { ConfigError, configErrorCodes, type ConfigErrorCode } from './config-error.js'
export {
  BrokerConfig,
  BrokerConfigLimits,
  BrokerLogLevel,
  IgnoredOption,
  ListenerConfig,
  ListenerTlsConfig,
  LogDestination,
  defaultBrokerConfig,
} from './broker-config-schema.js'
export { loadBrokerConfig, parseBrokerConfig } from './broker-config.js'
export { deleteUser, loadPasswordFile, setPassword, type PasswordDb } from './password-file.js'
export { matchListener } from './listener-match.js'
export { loadAclFile, parseAclFile } from './acl-file.js'
export type { AclAccess, AclClient, AclRules } from './acl-rules.js'
export {
  createStandaloneHooks,
  loadStandaloneDeps,
  type StandaloneDeps,
} from './standalone-hooks.js'
