/**
 * MQTT 3.1.1 + 5.0 conformance: every case in cases/*.json, run against a real broker on a real
 * socket, once per protocol version it lists. Test names carry the spec statement:
 * `[MQTT-3.1.0-1] first packet must be CONNECT (v4)`.
 *
 * Each file gets its own broker per version (so one version's sessions and retained messages
 * cannot leak into the other's run). Files and cases run side by side, a few at a time: the cases
 * of a file use distinct client ids and topics (client ids are checked at load), and most of the
 * suite's time is spent waiting for things that must not happen.
 */
import { readFileSync, readdirSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  createBroker,
  listenTcp,
  type Broker,
  type BrokerSettings,
  type Listener,
} from '../../src/index.js'
import { caseId, runCase, validateStep, type Case, type Step } from './case-runner.js'
import { conformanceHooks } from './hooks.js'
import type { Version } from './packets.js'

interface CaseFile {
  /** The spec clauses the file covers, for the describe block. */
  readonly clause: string
  /** Settings of the file's broker, on top of the conformance defaults. */
  readonly broker?: BrokerSettings
  readonly cases: readonly Case[]
}

const casesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cases')

/** Client ids a case's connect steps use, to refuse two cases of a file sharing one. */
function connectIds(steps: readonly Step[]): string[] {
  return steps.flatMap((s) => [
    ...(s.connect === undefined ? [] : [s.connect.clientId]),
    ...connectIds([...(s.v4 ?? []), ...(s.v5 ?? [])]),
  ])
}

function loadCaseFile(file: string): CaseFile {
  const data = JSON.parse(readFileSync(path.join(casesDir, file), 'utf8')) as CaseFile
  const names = new Set<string>()
  const owners = new Map<string, number>()
  for (const [i, c] of data.cases.entries()) {
    const where = `${file} case ${String(i)} (${JSON.stringify(c.id)})`
    if (
      c.versions.length === 0 ||
      (c.versions as readonly number[]).some((v) => v !== 4 && v !== 5)
    )
      throw new Error(`${where}: versions must list 4 and/or 5`)
    const name = `${JSON.stringify(c.id)} ${c.title}`
    if (names.has(name)) throw new Error(`${where}: duplicate id and title`)
    names.add(name)
    c.steps.forEach((s, j) => validateStep(s, `${where} step ${String(j)}`))
    for (const id of connectIds(c.steps)) {
      const owner = owners.get(id)
      if (owner !== undefined && owner !== i)
        throw new Error(`${where}: client id "${id}" is also used by case ${String(owner)}`)
      owners.set(id, i)
    }
  }
  return data
}

/** An exception the broker let escape while handling one connection: fatal for its process. */
interface Crash {
  /** The client's port, which tells the case; undefined when it escaped a promise chain. */
  readonly port: number | undefined
  readonly error: unknown
}

/**
 * The broker as listenTcp sees it, except that an exception a stream listener throws is recorded
 * against the client's port instead of killing this process (which runs every case): in a real
 * deployment each of them would kill the broker.
 */
function guarded(broker: Broker, crashes: Crash[]): Broker {
  const handle = (stream: Duplex, info: Parameters<Broker['handle']>[1]): void => {
    const port = stream instanceof net.Socket ? stream.remotePort : undefined
    const emit = stream.emit.bind(stream)
    stream.emit = ((event: string | symbol, ...args: unknown[]) => {
      try {
        return emit(event, ...args)
      } catch (error) {
        crashes.push({ port, error })
        stream.destroy()
        return true
      }
    }) as typeof stream.emit
    broker.handle(stream, info)
  }
  return Object.create(broker, { handle: { value: handle } }) as Broker
}

/** Rejections nobody handled (they have no connection to trace back to). */
const orphanCrashes: Crash[] = []
process.on('unhandledRejection', (error) => orphanCrashes.push({ port: undefined, error }))

async function runGuarded(
  c: Case,
  version: Version,
  port: number,
  crashes: readonly Crash[],
): Promise<void> {
  const ports = new Set<number>()
  const orphansBefore = orphanCrashes.length
  let failure: unknown
  try {
    await runCase(c, version, port, (p) => ports.add(p))
  } catch (err) {
    failure = err
  }
  const crash =
    crashes.find((x) => x.port !== undefined && ports.has(x.port)) ?? orphanCrashes[orphansBefore]
  if (crash !== undefined) {
    const e = crash.error
    const what = e instanceof Error ? (e.stack ?? e.message) : String(e)
    throw new Error(`the broker threw an uncaught exception (fatal for its process): ${what}`, {
      cause: failure,
    })
  }
  if (failure !== undefined)
    throw failure instanceof Error ? failure : new Error(JSON.stringify(failure))
}

const files = readdirSync(casesDir)
  .filter((f) => f.endsWith('.json'))
  .sort()

describe('MQTT conformance', { concurrency: 4 }, () => {
  for (const file of files) {
    const data = loadCaseFile(file)
    for (const version of [4, 5] as const satisfies readonly Version[]) {
      const cases = data.cases.filter((c) => c.versions.includes(version))
      if (cases.length === 0) continue
      describe(`${file}: ${data.clause} (v${String(version)})`, { concurrency: 8 }, () => {
        const crashes: Crash[] = []
        let broker: Broker | undefined
        let listener: Listener | undefined
        before(async () => {
          broker = await createBroker(
            { hooks: conformanceHooks },
            { sysIntervalSec: 0, ...data.broker },
          )
          listener = await listenTcp(guarded(broker, crashes), { port: 0 })
        })
        after(async () => {
          await listener?.close()
          await broker?.close()
        })
        for (const c of cases) {
          const title = `[${caseId(c, version)}] ${c.title} (v${String(version)})`
          test(title, { timeout: 15_000 }, () =>
            runGuarded(c, version, listener?.port ?? 0, crashes),
          )
        }
      })
    }
  }
})
