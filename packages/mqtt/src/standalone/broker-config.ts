import { readdirSync, readFileSync, statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { decoder, isStrataError } from '@strata/protocol'
import {
  BrokerConfig,
  defaultBrokerConfig,
  type BrokerLogLevel,
  type LogDestination,
} from './broker-config-schema.js'
import { ConfigError } from './config-error.js'
import { fail, parsePath, splitConfigLines, where, type ConfigLine } from './config-line.js'
import { buildListener } from './config-listener.js'
import { applyOption, type ConfigDraft, type FileState } from './config-options.js'
import { ignoredOptions, unsupportedHint, unsupportedOptions } from './config-unsupported.js'

/** Config files larger than this are refused: a mosquitto.conf is a few kilobytes. */
const maxConfigFileBytes = 1024 * 1024

const decodeBrokerConfig = decoder(BrokerConfig)

/**
 * Parses a Mosquitto-compatible config file (mosquitto.conf(5), Mosquitto 2.0). Supported:
 *
 * - global: `allow_anonymous` (default false), `per_listener_settings false`, `password_file`,
 *   `acl_file`, `persistence`, `persistence_location`, `max_packet_size`, `message_size_limit`,
 *   `max_inflight_messages`, `max_queued_messages`, `max_keepalive`, `set_tcp_nodelay`,
 *   `sys_interval`, `retain_available`, `log_dest` (stdout, stderr, file, none), `log_type`,
 *   `include_dir` (main file only);
 * - after `listener PORT [BIND]`: `protocol`, `cafile`, `certfile`, `keyfile`,
 *   `require_certificate`, `use_identity_as_username`, `tls_version`, `max_connections`, `max_qos`;
 * - accepted without effect, listed in `ignored`: `pid_file`, `log_timestamp`, `autosave_*`…
 *
 * Unknown options, and Mosquitto options Strata does not implement, are errors naming the file
 * and line: nothing that could change security is skipped. Relative paths resolve against the
 * directory of the file they are in. `include_dir` is read from disk.
 *
 * @throws ConfigError `MQTT_CONFIG_INVALID`, or `MQTT_FILE_UNREADABLE` for an include_dir.
 * @example
 * const config = parseBrokerConfig('listener 1883\npassword_file passwd\n', '/etc/strata/broker.conf')
 * config.passwordFile // '/etc/strata/passwd'
 * config.allowAnonymous // false
 */
export function parseBrokerConfig(text: string, file: string): BrokerConfig {
  const main = resolve(file)
  const draft: ConfigDraft = {
    config: structuredClone(defaultBrokerConfig),
    listeners: [],
    seen: new Map(),
    logTypes: [],
    logDestinations: undefined,
  }
  readConfigText(text, main, draft, main)
  return finalize(draft, main)
}

/**
 * Reads and parses a config file.
 *
 * @example
 * const config = await loadBrokerConfig(process.argv[2])
 */
export async function loadBrokerConfig(file: string): Promise<BrokerConfig> {
  const path = resolve(file)
  let text: string
  try {
    if ((await stat(path)).size > maxConfigFileBytes) throw new Error('the file is over 1 MiB')
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw unreadable(`cannot read config file ${path}`, err)
  }
  return parseBrokerConfig(text, path)
}

function readConfigText(text: string, file: string, draft: ConfigDraft, main: string): void {
  const state: FileState = { listener: undefined }
  for (const line of splitConfigLines(text, file)) {
    if (line.option === 'include_dir') {
      includeDir(line, draft, main)
      continue
    }
    if (applyOption(line, draft, state)) continue
    const reason = ignoredOptions.get(line.option)
    if (reason !== undefined) {
      draft.config.ignored.push({ option: line.option, where: where(line), reason })
      continue
    }
    rejectOption(line)
  }
}

function rejectOption(line: ConfigLine): never {
  const hint = unsupportedHint(line.option)
  if (hint !== undefined) {
    fail(line, `option "${line.option}" is not supported by the Strata broker`, hint, 'unsupported')
  }
  const guess = closestOption(line.option)
  fail(
    line,
    `unknown option "${line.option}"`,
    guess === undefined
      ? 'Check the spelling against mosquitto.conf(5); Strata supports a subset.'
      : `Did you mean "${guess}"?`,
    'unknown',
  )
}

/**
 * `include_dir DIR` (mosquitto.conf(5)): every `*.conf` in DIR, in Mosquitto's order, only from
 * the main file, and DIR must not hold the main file.
 */
function includeDir(line: ConfigLine, draft: ConfigDraft, main: string): void {
  if (line.file !== main) {
    fail(line, 'include_dir is only allowed in the main configuration file')
  }
  const dir = parsePath(line)
  let names: string[]
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && e.name.endsWith('.conf'))
      .map((e) => e.name)
  } catch (err) {
    throw unreadable(`${where(line)}: cannot read include_dir ${dir}`, err)
  }
  const files = names.sort(mosquittoFileOrder).map((name) => join(dir, name))
  if (files.includes(main)) fail(line, `include_dir ${dir} holds the main configuration file`)
  for (const file of files) readConfigText(readIncluded(line, file), file, draft, main)
}

function readIncluded(line: ConfigLine, file: string): string {
  try {
    if (statSync(file).size > maxConfigFileBytes) throw new Error('the file is over 1 MiB')
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw unreadable(`${where(line)}: cannot read included file ${file}`, err)
  }
}

/**
 * mosquitto.conf(5): "loaded in case sensitive alphabetical order, with the upper case of each
 * letter ordered before the lower case of the same letter" (00.conf, A.conf, a.conf, B.conf).
 */
export function mosquittoFileOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i)
    const cb = b.charCodeAt(i)
    const byLetter = upper(ca) - upper(cb)
    if (byLetter !== 0) return byLetter
    if (ca !== cb) return ca - cb
  }
  return a.length - b.length
}

function upper(c: number): number {
  return c >= 0x61 && c <= 0x7a ? c - 0x20 : c
}

function finalize(draft: ConfigDraft, file: string): BrokerConfig {
  const config = draft.config
  config.listeners = draft.listeners.map(buildListener)
  config.logDestinations = draft.logDestinations ?? [{ kind: 'stderr' }]
  config.logLevel = logLevel(draft.logTypes, config.logDestinations)
  try {
    return decodeBrokerConfig(config, file)
  } catch (err) {
    if (!isStrataError(err)) throw err
    throw new ConfigError('MQTT_CONFIG_INVALID', err.message, { cause: err, details: err.details })
  }
}

const logRanks: Readonly<Record<string, number>> = {
  error: 1,
  warning: 2,
  notice: 3,
  information: 3,
  subscribe: 3,
  unsubscribe: 3,
  websockets: 3,
  debug: 4,
  all: 4,
}
const levelByRank: readonly BrokerLogLevel[] = ['silent', 'error', 'warn', 'info', 'debug']

/**
 * The pino level that shows every `log_type` asked for. Mosquitto's default is error, warning,
 * notice and information (info); `log_type none` clears the types before it, as in Mosquitto.
 */
function logLevel(types: readonly string[], dests: readonly LogDestination[]): BrokerLogLevel {
  if (dests.length === 0) return 'silent'
  if (types.length === 0) return 'info'
  let rank = 0
  for (const t of types) rank = t === 'none' ? 0 : Math.max(rank, logRanks[t] ?? 0)
  return levelByRank[rank] ?? 'info'
}

const knownOptions = [
  'listener',
  'include_dir',
  'allow_anonymous',
  'password_file',
  'acl_file',
  'persistence',
  'persistence_location',
  'max_packet_size',
  'message_size_limit',
  'max_inflight_messages',
  'max_queued_messages',
  'max_keepalive',
  'set_tcp_nodelay',
  'sys_interval',
  'retain_available',
  'log_dest',
  'log_type',
  'protocol',
  'cafile',
  'certfile',
  'keyfile',
  'require_certificate',
  'use_identity_as_username',
  'tls_version',
  'max_connections',
  'max_qos',
  'per_listener_settings',
  ...ignoredOptions.keys(),
  ...unsupportedOptions.keys(),
]

/** The known option within two edits of a misspelt one, if there is exactly one best. */
function closestOption(option: string): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const known of knownOptions) {
    const d = editDistance(option, known)
    if (d < bestDistance) [best, bestDistance] = [known, d]
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost))
    }
    prev = row
  }
  return prev[b.length] ?? 0
}

function unreadable(message: string, err: unknown): ConfigError {
  const reason = err instanceof Error ? err.message : String(err)
  return new ConfigError('MQTT_FILE_UNREADABLE', `${message}: ${reason}`, {
    hint: 'Check that the path exists and the broker may read it.',
    cause: err,
  })
}
