/**
 * @strata/mqtt — an embeddable MQTT 3.1.1 + 5.0 server. `createBroker` takes the platform's
 * hooks and a session store and owns no port; `listenTcp`, `listenTls` and `listenWebSocket`
 * hand it connections.
 */
export {
  createBroker,
  type Broker,
  type BrokerDeps,
  type BrokerSettings,
  type ServerMessage,
} from './broker/create-broker.js'
export {
  defaultBrokerLimits,
  defaultBrokerOptions,
  type BrokerLimits,
  type BrokerOptions,
} from './broker/broker-options.js'
export type { BrokerMetrics } from './broker/metrics.js'
export type { ConnectionInfo } from './connection/connection-info.js'
export { reason as reasonCodes } from './connection/reason-codes.js'
export type {
  AuthenticateResult,
  AuthorizeResult,
  BrokerHooks,
  ClientIdentity,
  ClientInfo,
  ConnectContext,
  PublishVerdict,
} from './hooks/broker-hooks.js'
export {
  userPropertyValues,
  type BrokerMessage,
  type MessageProperties,
  type UserProperties,
  type UserProperty,
} from './message.js'
export { MqttError, mqttErrorCodes, type MqttErrorCode } from './errors.js'
export { listenTcp } from './listeners/tcp.js'
export { listenTls, type TlsSettings } from './listeners/tls.js'
export { listenWebSocket } from './listeners/websocket.js'
export type { ListenAddress, Listener } from './listeners/listener.js'
export {
  createMemorySessionStore,
  openSqliteSessionStore,
  StoreError,
  storeErrorCodes,
  type OutgoingEntry,
  type SessionMeta,
  type SessionStore,
  type SqliteSessionStore,
  type SqliteSessionStoreOptions,
  type StoreErrorCode,
  type StoredSession,
} from './store/index.js'
export {
  BrokerConfig,
  ConfigError,
  ListenerConfig,
  configErrorCodes,
  createStandaloneHooks,
  defaultBrokerConfig,
  deleteUser,
  loadBrokerConfig,
  loadStandaloneDeps,
  parseBrokerConfig,
  setPassword,
  type ConfigErrorCode,
  type StandaloneDeps,
} from './standalone/index.js'
export type { Subscription } from './topics/subscription.js'
