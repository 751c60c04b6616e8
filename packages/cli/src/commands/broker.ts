import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createBroker,
  createMemorySessionStore,
  createStandaloneHooks,
  defaultBrokerConfig,
  listenTcp,
  listenTls,
  listenWebSocket,
  loadBrokerConfig,
  loadStandaloneDeps,
  openSqliteSessionStore,
  type BrokerConfig,
  type BrokerHooks,
  type Listener,
  type ListenerConfig,
  type TlsSettings,
} from '@strata/mqtt'
import pino, { type Logger } from 'pino'
import { CliError } from '../errors.js'
import type { Output } from '../output.js'
import { brokerSettingsFrom } from './broker-settings.js'

export interface BrokerCommandOptions {
  readonly config?: string
  readonly port?: number
  readonly host?: string
  readonly json?: boolean
}

/** The file the session store keeps in `persistence_location`. */
export const sessionStoreFile = 'strata-sessions.db'

/**
 * `strata broker`: the MQTT server alone, configured like Mosquitto. Resolves once it is
 * listening, with a function that stops it.
 */
export async function startBroker(
  options: BrokerCommandOptions,
  out: Output,
  version: string,
): Promise<{ stop(): Promise<void> }> {
  const config = withCliListener(
    options.config === undefined ? defaultBrokerConfig : await loadBrokerConfig(options.config),
    options,
  )
  requireSomeoneCanConnect(config)
  const log = createLogger(config)
  const listenerConfigs = new Map<string, ListenerConfig>()
  const reloadable = await reloadableHooks(config, listenerConfigs)
  const store = config.persistence.enabled
    ? openSqliteSessionStore({
        path: join(config.persistence.location ?? process.cwd(), sessionStoreFile),
      })
    : createMemorySessionStore()
  const broker = await createBroker(
    { hooks: reloadable.hooks, store, logger: log },
    brokerSettingsFrom(config, version),
  )
  const listeners: Listener[] = []
  try {
    for (const l of config.listeners) {
      const listener = await openListener(broker, l)
      listenerConfigs.set(listener.url, l)
      listeners.push(listener)
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()))
    await broker.close()
    throw err
  }
  report(out, listeners, config, options.json === true)
  log.info(
    { listeners: listeners.map((l) => l.url), persistence: config.persistence.enabled },
    'broker started',
  )
  const onHup = () => {
    reloadable.reload().then(
      () => log.info('password and ACL files reloaded'),
      (err: unknown) => log.error({ err }, 'reload failed; keeping the previous files'),
    )
  }
  process.on('SIGHUP', onHup)
  return {
    stop: async () => {
      process.off('SIGHUP', onHup)
      await Promise.all(listeners.map((l) => l.close()))
      await broker.close()
      log.info('broker stopped')
    },
  }
}

function withCliListener(config: BrokerConfig, options: BrokerCommandOptions): BrokerConfig {
  if (options.port === undefined) return config
  const listener: ListenerConfig = {
    port: options.port,
    host: options.host ?? '127.0.0.1',
    protocol: 'mqtt',
    maxQos: 2,
  }
  return { ...config, listeners: [...config.listeners, listener] }
}

function requireSomeoneCanConnect(config: BrokerConfig): void {
  if (config.listeners.length === 0) {
    throw new CliError('CLI_USAGE', 'the broker has no listener', {
      hint: 'Give --port N, or a config file (--config FILE) with a `listener PORT [HOST]` line.',
    })
  }
  const certificateLogin = config.listeners.some((l) => l.tls?.useIdentityAsUsername === true)
  if (!config.allowAnonymous && config.passwordFile === undefined && !certificateLogin) {
    throw new CliError(
      'CLI_USAGE',
      'no client could connect: there are no users and anonymous access is off',
      {
        hint: 'Create users with `strata broker passwd FILE USER` and set `password_file FILE` in the config (or, for a closed test network only, `allow_anonymous true`).',
      },
    )
  }
}

function createLogger(config: BrokerConfig): Logger {
  const destination =
    config.logDestinations.find((d) => d.kind === 'file') ?? config.logDestinations[0]
  const fd = destination?.kind === 'stdout' ? 1 : 2
  const stream =
    destination?.kind === 'file'
      ? pino.destination({ dest: destination.path, mkdir: true })
      : pino.destination(fd)
  return pino({ level: config.logLevel, base: { component: 'broker' } }, stream)
}

/** Hooks that read the password and ACL files anew on SIGHUP, as Mosquitto does. */
async function reloadableHooks(
  config: BrokerConfig,
  listeners: Map<string, ListenerConfig>,
): Promise<{ hooks: BrokerHooks; reload(): Promise<void> }> {
  const build = async () =>
    createStandaloneHooks(config, {
      ...(await loadStandaloneDeps(config)),
      listenerOf: (url) => listeners.get(url),
    })
  let current = await build()
  return {
    hooks: {
      authenticate: (context) => current.authenticate(context),
      authorizePublish: (client, topic, qos, retain) =>
        current.authorizePublish?.(client, topic, qos, retain) ?? { allowed: true },
      authorizeSubscribe: (client, filter, qos) =>
        current.authorizeSubscribe?.(client, filter, qos) ?? { allowed: true },
    },
    reload: async () => {
      current = await build()
    },
  }
}

async function openListener(
  broker: Parameters<typeof listenTcp>[0],
  l: ListenerConfig,
): Promise<Listener> {
  // Mosquitto binds every interface when a listener names no address.
  const address = {
    port: l.port,
    host: l.host ?? '::',
    flagHint: 'the `listener` line of the config (or --port)',
    // Each listener counts its own connections, as Mosquitto's per-listener max_connections.
    ...(l.maxConnections === undefined ? {} : { maxConnections: l.maxConnections }),
  }
  const tls = l.tls === undefined ? undefined : await loadTls(l.tls)
  if (l.protocol === 'websockets')
    return listenWebSocket(broker, { ...address, ...(tls === undefined ? {} : { tls }) })
  return tls === undefined ? listenTcp(broker, address) : listenTls(broker, { ...address, tls })
}

async function loadTls(tls: NonNullable<ListenerConfig['tls']>): Promise<TlsSettings> {
  const read = async (path: string) => {
    try {
      return await readFile(path)
    } catch (cause) {
      throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${path}`, {
        hint: 'Check the certfile, keyfile and cafile paths of the listener.',
        cause,
      })
    }
  }
  return {
    key: await read(tls.key),
    cert: await read(tls.cert),
    ...(tls.ca === undefined ? {} : { ca: await read(tls.ca) }),
    requireClientCertificate: tls.requireCertificate,
    minVersion: tls.minVersion,
  }
}

function report(
  out: Output,
  listeners: readonly Listener[],
  config: BrokerConfig,
  json: boolean,
): void {
  if (json) {
    out.stdout.write(
      `${JSON.stringify({ listeners: listeners.map((l) => ({ url: l.url, port: l.port })), persistence: config.persistence })}\n`,
    )
    return
  }
  for (const l of listeners) out.stdout.write(`strata broker listening on ${l.url}\n`)
  for (const ignored of config.ignored)
    out.stderr.write(`note: ${ignored.where}: ${ignored.option} ignored (${ignored.reason})\n`)
}
