import { startNode, type StrataNode } from '@strata/cloud'
import { resolve } from 'node:path'
import pino from 'pino'
import type { Output } from '../output.js'
import { intOption } from './int-option.js'

export interface UpOptions {
  readonly data: string
  readonly host: string
  readonly mqttPort: number
  readonly mqttsPort: number
  readonly httpPort: number
  readonly logLevel: string
  /** Days a cleared alarm is kept; Infinity keeps every one (default: the node's, a year). */
  readonly keepClearedAlarms?: number
  readonly json?: boolean
}

const dayMs = 24 * 3_600_000
const wholeDays = intOption(1, 36_500, 'expected a number of days from 1 to 36500, or forever')

/** `--keep-cleared-alarms`: whole days, or `forever`. */
export function parseKeepDays(value: string): number {
  return value.trim() === 'forever' ? Number.POSITIVE_INFINITY : wholeDays(value)
}

/**
 * `strata up`: the all-in-one node. Prints the addresses (and, on a first start, the one-time setup
 * token) and resolves with the running node.
 */
export async function up(options: UpOptions, out: Output): Promise<StrataNode> {
  const dataDir = resolve(options.data)
  const node = await startNode({
    dataDir,
    host: options.host,
    mqttPort: options.mqttPort,
    mqttsPort: options.mqttsPort,
    httpPort: options.httpPort,
    logger: pino({ level: options.logLevel, base: { component: 'node' } }, pino.destination(2)),
    ...(options.keepClearedAlarms === undefined
      ? {}
      : { alarms: { keepClearedMs: options.keepClearedAlarms * dayMs } }),
    ...(process.env['STRATA_CA_PASSPHRASE'] === undefined
      ? {}
      : { caPassphrase: process.env['STRATA_CA_PASSPHRASE'] }),
  })
  if (options.json === true) {
    out.stdout.write(
      `${JSON.stringify({ ok: true, dataDir, mqtt: node.mqttUrl, mqtts: node.mqttsUrl, http: node.httpUrl, console: node.consoleUrl, setupToken: node.setupToken ?? null, setupTokenPath: node.setupToken === undefined ? null : node.setupTokenPath })}\n`,
    )
    return node
  }
  const lines = [
    `Strata is up (data in ${dataDir})`,
    `  MQTT     ${node.mqttUrl}`,
    `  MQTTS    ${node.mqttsUrl}   (CA chain: GET ${node.httpUrl}/api/v1/ca)`,
    `  HTTP API ${node.httpUrl}/api/v1   (OpenAPI: ${node.httpUrl}/api/v1/openapi.json)`,
    `  console  ${node.consoleUrl}   (the web console; the setup token works there too)`,
  ]
  if (node.setupToken !== undefined) {
    lines.push(
      '',
      'First start: create the first admin with this one-time setup token',
      `  ${node.setupToken}`,
      `(also in ${node.setupTokenPath}, mode 0600; void once used):`,
      `  strata admin setup --url ${node.httpUrl} --email you@example.com`,
    )
  }
  lines.push('', 'Ctrl-C stops it.')
  out.stdout.write(`${lines.join('\n')}\n`)
  return node
}
