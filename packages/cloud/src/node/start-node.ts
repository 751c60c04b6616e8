import {
  createBroker,
  listenTcp,
  listenTls,
  openSqliteSessionStore,
  type Broker,
  type Listener,
  type ServerMessage,
} from '@strata/mqtt'
import { isStrataError } from '@strata/protocol'
import { openEmbeddedStore, type TimeSeriesStore } from '@strata/tsdb'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { Accounts } from '../accounts/accounts.js'
import { ApiTokens } from '../accounts/api-tokens.js'
import { AuditLog } from '../audit/audit-log.js'
import { DeviceAccess } from '../broker-access/device-access.js'
import { AppAccess, appAttributesOf } from '../broker-access/app-access.js'
import { openStateDb } from '../db/state-db.js'
import { CloudError } from '../errors.js'
import { createHttpApi } from '../http/create-http-api.js'
import { principalResolver } from '../http/authenticate.js'
import { deviceIdentityFromCertificate, openCertificateAuthority } from '../identity/index.js'
import { DeviceMessages } from '../ingestion/device-messages.js'
import { WriteBatcher } from '../ingestion/write-batcher.js'
import { DeviceCertificates } from '../provisioning/device-certificates.js'
import {
  certificateRenewalHandler,
  provisioningHandler,
} from '../provisioning/provisioning-messages.js'
import { CertificateLedger } from '../registry/certificate-ledger.js'
import { DeviceErrors } from '../registry/device-errors.js'
import { DeviceGroups } from '../registry/device-groups.js'
import { DeviceProfiles } from '../registry/device-profiles.js'
import { DeviceRegistry } from '../registry/device-registry.js'
import { DeviceTokens } from '../registry/device-tokens.js'
import { PresenceTracker } from '../registry/presence.js'
import { SecretStore } from '../secrets/secret-store.js'
import { addRuleMetrics, createNodeMetrics } from './node-metrics.js'
import { loadServerTls } from './node-tls.js'
import { attributesOf } from '../broker-access/device-access.js'
import { CommandDispatch } from '../commands/command-dispatch.js'
import { CommandJobs } from '../commands/command-jobs.js'
import { commandResponseHandler } from '../commands/command-messages.js'
import { DeviceCommands } from '../commands/device-commands.js'
import type { AlarmOptions } from '../alarms/alarm-types.js'
import { Alarms } from '../alarms/alarms.js'
import { deviceRefusal } from '../twins/device-refusal.js'
import { DeviceSubscriptions } from '../twins/device-subscriptions.js'
import { DeviceTwins } from '../twins/device-twins.js'
import { twinGetHandler, twinReportedHandler } from '../twins/twin-messages.js'
import { TwinSync } from '../twins/twin-sync.js'
import { LiveFeed, type LiveFeedOptions } from '../live/live-feed.js'
import { LiveHub } from '../live/live-hub.js'
import type { OutboxOptions } from '../rules/delivery/index.js'
import { RuleStore } from '../rules/rule-store.js'
import { startRuleServices } from '../rules/start-rules.js'

/** Where and how an all-in-one node runs. Port 0 picks a free port. */
export interface NodeOptions {
  readonly dataDir: string
  readonly host: string
  readonly mqttPort: number
  readonly mqttsPort: number
  readonly httpPort: number
  /** Extra names the TLS certificate must cover (besides host, localhost and 127.0.0.1). */
  readonly tlsHostnames?: readonly string[]
  /** Passphrase the CA's private keys are encrypted with. */
  readonly caPassphrase?: string
  /** Limits and timings of the live feed (`GET /api/v1/live`). */
  readonly live?: Partial<LiveFeedOptions>
  /**
   * Delivery of rule actions that leave the node (webhook, AMQP, NATS). `allowPrivateNetworks`
   * also decides which targets a rule may be saved with.
   */
  readonly delivery?: Partial<OutboxOptions>
  /** Limits of alarms, and how long cleared ones are kept (`keepClearedMs`, default a year). */
  readonly alarms?: Partial<AlarmOptions>
  readonly logger?: Logger
  readonly clock?: () => number
}

/** A running node: its addresses, the one-time setup token on first start, and `close()`. */
export interface StrataNode {
  readonly mqttUrl: string
  readonly mqttsUrl: string
  readonly httpUrl: string
  readonly consoleUrl: string
  /** Printed once on a first start; the file `DIR/setup-token` holds it until it is used. */
  readonly setupToken: string | undefined
  readonly setupTokenPath: string
  /** The CA chain devices must trust for the MQTTS port (PEM), also `DIR/ca/…`. */
  readonly caChainPem: string
  /**
   * Publishes as the node, routed like any message: e.g. to a device's cloud topics
   * (`strata/v1/devices/{id}/commands/request/{name}`). QoS 1 messages wait in the persistent
   * session of a device that sleeps. Resolves once the message is durable where it had to be.
   */
  publish(message: ServerMessage): Promise<void>
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Starts an all-in-one node on a data folder: the state database, the CA, the embedded time-series
 * store, the MQTT server (plain and TLS listeners; devices prove their key with a token or a client
 * certificate), and the HTTP API. Closes everything it opened if any step fails.
 */
export async function startNode(options: NodeOptions): Promise<StrataNode> {
  const log = options.logger ?? pino({ level: 'silent' })
  const clock = options.clock ?? Date.now
  const dir = options.dataDir
  const closers: (() => Promise<void> | void)[] = []
  const close = async () => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c()
      } catch (err) {
        log.error({ err }, 'close failed')
      }
    }
  }
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    // The store's folder lock is the node's: a second node on the same folder stops here.
    const store = await openStore(join(dir, 'tsdb'))
    closers.push(() => store.close())
    const db = openStateDb(join(dir, 'cloud.db'))
    closers.push(() => {
      db.close()
    })
    const ca = await openCertificateAuthority({
      dir: join(dir, 'ca'),
      clock,
      ...(options.caPassphrase === undefined ? {} : { passphrase: options.caPassphrase }),
    })
    const hostnames = [
      options.host,
      'localhost',
      '127.0.0.1',
      ...(options.tlsHostnames ?? []),
    ].filter((h) => h !== '0.0.0.0' && h !== '::')
    const serverTls = await loadServerTls(ca, dir, hostnames, clock())

    const setupTokenPath = join(dir, 'setup-token')
    const secrets = new SecretStore(db, clock)
    const audit = new AuditLog(db, clock)
    const accounts = new Accounts({
      db,
      secrets,
      audit,
      clock,
      onSetupComplete: () => {
        rm(setupTokenPath, { force: true }).catch((err: unknown) =>
          log.warn({ err }, 'could not delete the setup-token file'),
        )
      },
    })
    // Closures below use `broker` and `metrics`, made further down; none runs before they exist.
    const cut = (deviceId: string, reason: string) => {
      const n = broker.disconnectIdentity(deviceId, { reasonCode: 0x98, publishWill: false })
      log.info({ deviceId, reason, sessions: n }, 'device access cut')
    }
    const profiles = new DeviceProfiles({ db, audit, clock })
    const registry = new DeviceRegistry({
      db,
      secrets,
      audit,
      clock,
      onAccessCut: cut,
      onProfileChange: (deviceId) => profiles.forgetDevice(deviceId),
      // Label and attribute edits reach the rules at the device's next message.
      onChange: (deviceId) => ruleServices.engine.forgetDevice(deviceId),
    })
    const groups = new DeviceGroups({ db, audit, clock, lookup: (id) => registry.lookup(id) })
    const lookup = (id: string) => registry.lookup(id)
    // The live feed's producers publish here; each publish costs a counter check when nobody listens.
    const hub = new LiveHub({ lookup, clock, log: log.child({ component: 'live-hub' }) })
    const twins = new DeviceTwins({ db, audit, clock, lookup })
    twins.onDesiredChange((id, version, patch) => hub.publishTwin(id, 'desired', version, patch))
    twins.onReportedChange((id, version, patch) => hub.publishTwin(id, 'reported', version, patch))
    const commands = new DeviceCommands({ db, audit, clock, lookup })
    commands.onStatusChange((change) => hub.publishCommand(change))
    const rules = new RuleStore({
      db,
      audit,
      clock,
      policy: { allowPrivateNetworks: options.delivery?.allowPrivateNetworks ?? false },
      log,
    })
    const alarms = new Alarms(
      { db, audit, clock, lookup, log: log.child({ component: 'alarms' }) },
      options.alarms,
    )
    // Writes repeat raises held in memory; closed after the rules and the broker, before the db.
    closers.push(() => alarms.close())
    alarms.onChange((change) => hub.publishAlarm(change))
    const commandJobs = new CommandJobs({
      db,
      audit,
      clock,
      commands,
      members: (principal, groupId, q) => groups.members(principal, groupId, q),
    })
    const subscriptions = new DeviceSubscriptions()
    const ledger = new CertificateLedger(db, clock)
    const deviceErrors = new DeviceErrors(db, clock)
    const presence = new PresenceTracker({
      db,
      clock,
      onChange: (change) => hub.publishPresence(change),
    })
    closers.push(() => presence.close())
    const certificates = new DeviceCertificates({
      ca,
      ledger,
      registry,
      secrets,
      audit,
      clock,
      onAccessCut: cut,
    })
    const access = new DeviceAccess({
      registry,
      secrets,
      certificates: ledger,
      audit,
      clock,
      readCertificate: (peer) => {
        try {
          return deviceIdentityFromCertificate(peer)
        } catch {
          return undefined
        }
      },
    })

    // Applications (an API token as the MQTT password) read their tenant's rule outputs.
    const apps = new AppAccess({
      authenticate: (token) => accounts.authenticate(token),
      tokenState: (id) => secrets.get(id),
      cut: (identityId, reason) => {
        const n = broker.disconnectIdentity(identityId, {
          reasonCode: 0x98,
          publishWill: false,
          discardSessions: true,
        })
        log.info({ identityId, reason, sessions: n }, 'application access cut')
      },
      audit,
      clock,
    })
    closers.push(() => apps.close())

    const batcher = new WriteBatcher(store, {
      onStored: (n) => metrics.pointsStored.inc(n),
      onDurable: (batches) => hub.publishTelemetry(batches),
    })
    closers.push(() => batcher.drain())
    const publish = (m: Parameters<Broker['publish']>[0]) => broker.publish(m)
    const refuse = deviceRefusal({
      errors: deviceErrors,
      publish,
      clock,
      log,
      onRefused: (code) => metrics.messagesRefused.inc({ code }),
    })
    const twinHandlerDeps = { twins, publish, refuse, log }
    const messages = new DeviceMessages({
      profileOf: (deviceId) => profiles.forDevice(deviceId),
      batcher,
      presence,
      errors: deviceErrors,
      publish,
      clock,
      log,
      handlers: new Map([
        ['provisioning.request', provisioningHandler({ certificates, publish })],
        ['certificate.request', certificateRenewalHandler({ certificates, publish })],
        ['twin.reported', twinReportedHandler(twinHandlerDeps)],
        ['twin.get', twinGetHandler(twinHandlerDeps)],
        ['command.response', commandResponseHandler({ commands, refuse, log })],
      ]),
      onRefused: (code) => metrics.messagesRefused.inc({ code }),
      onAccepted: (m) => ruleServices.engine.onAccepted(m),
    })
    const sessions = openSqliteSessionStore({ path: join(dir, 'mqtt-sessions.db') })
    const broker = await createBroker(
      {
        logger: log,
        store: sessions,
        hooks: {
          authenticate: (ctx) =>
            apps.handles(ctx) ? apps.authenticate(ctx) : access.authenticate(ctx),
          authorizePublish: (client, topic) =>
            appAttributesOf(client) === undefined
              ? access.authorizePublish(client, topic)
              : apps.authorizePublish(client, topic),
          authorizeSubscribe: (client, filter) => {
            if (appAttributesOf(client) !== undefined)
              return apps.authorizeSubscribe(client, filter)
            const decision = access.authorizeSubscribe(client, filter)
            // Twins and commands resend what a new session missed (twins/device-subscriptions.ts).
            if (decision.allowed) subscriptions.allowed(client, filter)
            return decision
          },
          onPublish: (client, message) => messages.onPublish(client, message),
          onConnect: (client) => {
            apps.connected(client)
            const a = attributesOf(client)
            if (a?.kind !== 'device' || a.deviceId === undefined) return
            registry.markConnected(a.deviceId)
            presence.connected(a.deviceId)
            // Sends the desired state when the device holds an older version than the twin's.
            subscriptions.connected(client, a.deviceId)
          },
          onDisconnect: (client, reason) => {
            apps.disconnected(client)
            subscriptions.disconnected(client)
            const a = attributesOf(client)
            if (a?.kind !== 'device' || a.deviceId === undefined) return
            // The profile's sleep schedule wins; the attribute serves devices without one.
            const sleep =
              profiles.forDevice(a.deviceId)?.sleepIntervalS ??
              registry.lookup(a.deviceId)?.attributes['sleepIntervalS']
            presence.disconnected(a.deviceId, reason, typeof sleep === 'number' ? sleep : undefined)
          },
        },
      },
      {},
    )
    closers.push(() => broker.close())
    const metrics = createNodeMetrics(broker)
    // Rules run on accepted messages. Closed before the broker: the engine, then the outbox.
    const ruleServices = startRuleServices(
      {
        source: rules,
        registry,
        twins,
        commands,
        alarms,
        batcher,
        publish,
        deliveryPath: join(dir, 'delivery.db'),
        clock,
        log,
      },
      options.delivery === undefined ? {} : { delivery: options.delivery },
    )
    closers.push(() => ruleServices.close())
    addRuleMetrics(metrics.registry, ruleServices.engine.totals)
    // Closed before the broker (closers run in reverse): their last publishes still get through.
    const twinSync = new TwinSync({ twins, subscriptions, publish, log })
    closers.push(() => twinSync.close())
    const dispatch = new CommandDispatch({ commands, subscriptions, publish, clock, log })
    closers.push(() => dispatch.close())

    const mqtt: Listener = await listenTcp(broker, {
      host: options.host,
      port: options.mqttPort,
      flagHint: '--mqtt-port',
    })
    closers.push(() => mqtt.close())
    const mqtts: Listener = await listenTls(broker, {
      host: options.host,
      port: options.mqttsPort,
      flagHint: '--mqtts-port',
      tls: {
        key: serverTls.keyPem,
        cert: serverTls.certificatePem,
        ca: ca.trustAnchorsPem(),
        requireClientCertificate: false,
      },
    })
    closers.push(() => mqtts.close())

    const live = new LiveFeed(
      {
        hub,
        authenticate: (token) => accounts.authenticate(token),
        log,
        clock,
        metrics: {
          connections: (n) => metrics.liveConnections.set(n),
          framesSent: (n) => metrics.liveFramesSent.inc(n),
          framesDropped: (n) => metrics.liveFramesDropped.inc(n),
        },
      },
      options.live,
    )

    const app = await createHttpApi(
      {
        accounts,
        apiTokens: new ApiTokens({
          secrets,
          audit,
          clock,
          onRevoked: (id) => apps.tokenRevoked(id),
        }),
        deviceTokens: new DeviceTokens({ registry, secrets, audit, clock, onAccessCut: cut }),
        registry,
        profiles,
        groups,
        presence,
        deviceErrors,
        certificates,
        twins,
        commands,
        commandJobs,
        alarms,
        rules,
        ruleStats: ruleServices.engine,
        outbox: ruleServices.outbox,
        onAccepted: (m) => ruleServices.engine.onAccepted(m),
        audit,
        store,
        batcher,
        live,
        metrics: metrics.registry,
        clock,
        endpoints: { mqttUrl: mqtt.url, mqttsUrl: mqtts.url },
        principal: principalResolver(accounts),
        deviceTokenSubject: async (token) => (await secrets.verify(token, 'device')).subject,
        verifyClaim: async (token) => (await secrets.verify(token, 'claim')).id,
      },
      log,
    )
    closers.push(() => app.close())
    // Before the HTTP server (closers run in reverse): clients get 1001 rather than a cut socket.
    closers.push(() => live.close())
    await listenHttp(app, options.host, options.httpPort)
    const address = app.server.address()
    const httpPort =
      typeof address === 'object' && address !== null ? address.port : options.httpPort
    const httpUrl = `http://${urlHost(options.host)}:${String(httpPort)}`

    let setupToken: string | undefined
    if (accounts.setupPending()) {
      setupToken = await accounts.issueSetupToken()
      if (setupToken !== undefined)
        await writeFile(setupTokenPath, `${setupToken}\n`, { mode: 0o600 })
    }
    log.info({ mqtt: mqtt.url, mqtts: mqtts.url, http: httpUrl }, 'node started')
    const closeOnce = (() => {
      let p: Promise<void> | undefined
      return () => (p ??= close())
    })()
    return {
      mqttUrl: mqtt.url,
      mqttsUrl: mqtts.url,
      httpUrl,
      consoleUrl: `${httpUrl}/`,
      setupToken,
      setupTokenPath,
      caChainPem: ca.caChainPem(),
      publish,
      close: closeOnce,
      [Symbol.asyncDispose]: closeOnce,
    }
  } catch (err) {
    await close()
    throw err
  }
}

async function openStore(path: string): Promise<TimeSeriesStore> {
  try {
    return await openEmbeddedStore(path)
  } catch (err) {
    if (isStrataError(err) && err.code === 'TSDB_LOCKED') {
      throw new CloudError(
        'CLOUD_DATA_LOCKED',
        `the data folder ${path} is in use by another Strata node`,
        {
          hint: 'Stop the other node, or start this one with another --data folder.',
          cause: err,
        },
      )
    }
    throw err
  }
}

async function listenHttp(
  app: Awaited<ReturnType<typeof createHttpApi>>,
  host: string,
  port: number,
): Promise<void> {
  try {
    await app.listen({ host, port })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new CloudError(
        'CLOUD_PORT_IN_USE',
        `HTTP port ${String(port)} on ${host} ${code === 'EADDRINUSE' ? 'is already in use' : 'needs privileges'}`,
        {
          hint: 'Choose another port with --http-port, or stop what holds it.',
          cause: err,
        },
      )
    }
    throw err
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1'
  return isIP(host) === 6 ? `[${host}]` : host
}
