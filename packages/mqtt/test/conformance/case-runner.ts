/**
 * Runs one conformance case (JSON data: hex in, hex out) against a broker port for one protocol
 * version. The step vocabulary is small on purpose; see README.md beside this file.
 */
import {
  connackPrefix,
  connectPacket,
  encode,
  type ConnectOptions,
  type Version,
} from './packets.js'
import {
  RawClient,
  anyOfMatcher,
  bytesMatcher,
  closedMatcher,
  packetMatcher,
  sequenceMatcher,
  type Matcher,
} from './raw-client.js'

/** One step of a case; every step but `wait` acts on `client` (default "a"). */
export interface Step {
  readonly client?: string
  readonly timeoutMs?: number
  /** Opens the connection without sending anything. */
  readonly open?: true
  /** Sends CONNECT (built for the case's version) and expects a successful CONNACK. */
  readonly connect?: ConnectOptions
  readonly sessionPresent?: boolean
  /** With `connect`: a packet prefix to expect instead of the success CONNACK, or false for none. */
  readonly connack?: string | false
  readonly send?: string
  /** A well-formed packet as mqtt-packet fields, encoded for the case's version. */
  readonly packet?: Record<string, unknown>
  readonly expect?: string
  readonly expectPacket?: string
  readonly expectClosed?: true
  /** A protocol violation's answer: DISCONNECT with this reason code then close on 5; close on 3.1.1. */
  readonly violation?: string
  readonly expectNothing?: number
  readonly anyOf?: readonly (readonly Step[])[]
  readonly wait?: number
  /** Drops the connection without DISCONNECT (the broker sees a network failure). */
  readonly close?: true
  readonly v4?: readonly Step[]
  readonly v5?: readonly Step[]
}

export interface Case {
  readonly id: string | { readonly v4: string; readonly v5: string }
  readonly title: string
  readonly versions: readonly Version[]
  readonly steps: readonly Step[]
  /** Why the expected bytes are what they are, when the spec is not obvious. */
  readonly note?: string
}

/**
 * How long an expectation waits unless its step says otherwise. Generous: it only runs out when a
 * test is failing anyway, and a loaded machine can take a while to schedule a broker turn.
 */
const defaultTimeoutMs = 3000

const actions = [
  'open',
  'connect',
  'send',
  'packet',
  'expect',
  'expectPacket',
  'expectClosed',
  'violation',
  'expectNothing',
  'anyOf',
  'wait',
  'close',
  'v4',
  'v5',
] as const
const modifiers = new Set(['client', 'timeoutMs', 'sessionPresent', 'connack'])
const expectations = new Set(['expect', 'expectPacket', 'expectClosed', 'violation', 'anyOf'])

/** Checks a step has exactly one action and no unknown keys, so a typo cannot skip a check. */
export function validateStep(step: Step, where: string): void {
  const keys = Object.keys(step)
  const found = keys.filter((k) => (actions as readonly string[]).includes(k))
  const unknown = keys.filter((k) => !found.includes(k) && !modifiers.has(k))
  const versioned = found.every((k) => k === 'v4' || k === 'v5') && found.length > 0
  if (unknown.length > 0) throw new Error(`${where}: unknown keys ${unknown.join(', ')}`)
  if (found.length !== 1 && !versioned) throw new Error(`${where}: needs exactly one action`)
  for (const k of ['v4', 'v5'] as const)
    step[k]?.forEach((s, i) => validateStep(s, `${where}.${k}[${String(i)}]`))
  step.anyOf?.forEach((branch, b) =>
    branch.forEach((s, i) => {
      validateStep(s, `${where}.anyOf[${String(b)}][${String(i)}]`)
      const inner =
        s.v4 !== undefined || s.v5 !== undefined ? [...(s.v4 ?? []), ...(s.v5 ?? [])] : [s]
      if (!inner.every((x) => Object.keys(x).some((k) => expectations.has(k))))
        throw new Error(`${where}.anyOf: only expectations may appear in a branch`)
    }),
  )
}

/** The id a case is named by for one version. */
export function caseId(c: Case, version: Version): string {
  return typeof c.id === 'string' ? c.id : version === 4 ? c.id.v4 : c.id.v5
}

/**
 * Runs the steps of one case; closes every connection it opened, whatever happens. `opened` is
 * told the local port of each connection, so that what the broker does on it can be traced back
 * to this case.
 */
export async function runCase(
  c: Case,
  version: Version,
  port: number,
  opened: (localPort: number) => void = () => undefined,
): Promise<void> {
  const clients = new Map<string, RawClient>()
  const clientFor = async (name: string): Promise<RawClient> => {
    let client = clients.get(name)
    if (client === undefined) {
      client = await RawClient.connect(port)
      clients.set(name, client)
      if (client.localPort !== undefined) opened(client.localPort)
    }
    return client
  }
  const existing = (name: string): RawClient => {
    const client = clients.get(name)
    if (client === undefined) throw new Error(`client "${name}" was never opened`)
    return client
  }
  const run = async (steps: readonly Step[]): Promise<void> => {
    for (const [i, step] of steps.entries()) {
      if (step.v4 !== undefined || step.v5 !== undefined) {
        await run((version === 4 ? step.v4 : step.v5) ?? [])
        continue
      }
      try {
        await runStep(step)
      } catch (err) {
        const what = JSON.stringify(step)
        throw new Error(
          `step ${String(i)} ${what.length > 160 ? `${what.slice(0, 160)}…` : what}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        )
      }
    }
  }
  const runStep = async (step: Step): Promise<void> => {
    const name = step.client ?? 'a'
    const timeoutMs = step.timeoutMs ?? defaultTimeoutMs
    if (step.wait !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, step.wait))
    } else if (step.open === true) {
      await clientFor(name)
    } else if (step.connect !== undefined) {
      const client = await clientFor(name)
      client.send(connectPacket(version, step.connect))
      if (step.connack !== false) {
        const prefix = step.connack ?? connackPrefix(version, step.sessionPresent ?? false)
        await client.expectPacket(prefix, timeoutMs)
      }
    } else if (step.send !== undefined) {
      ;(await clientFor(name)).send(step.send)
    } else if (step.packet !== undefined) {
      ;(await clientFor(name)).send(encode(step.packet, version))
    } else if (step.expectNothing !== undefined) {
      await existing(name).expectNothing(step.expectNothing)
    } else if (step.close === true) {
      await existing(name).destroyed()
    } else {
      await existing(name).waitFor(matcherFor(step, version), timeoutMs)
    }
  }
  try {
    await run(c.steps)
  } finally {
    await Promise.all([...clients.values()].map((client) => client.destroyed()))
  }
}

/** The matcher of an expectation step. */
export function matcherFor(step: Step, version: Version): Matcher {
  if (step.expect !== undefined) return bytesMatcher(step.expect)
  if (step.expectPacket !== undefined) return packetMatcher(step.expectPacket)
  if (step.expectClosed === true) return closedMatcher
  if (step.violation !== undefined) {
    return version === 4
      ? closedMatcher
      : sequenceMatcher([packetMatcher(`e0 xx ${step.violation}`), closedMatcher])
  }
  if (step.anyOf !== undefined) {
    return anyOfMatcher(
      step.anyOf.map((branch) =>
        sequenceMatcher(
          branch.flatMap((s) => {
            const versioned = s.v4 !== undefined || s.v5 !== undefined
            const steps = versioned ? ((version === 4 ? s.v4 : s.v5) ?? []) : [s]
            return steps.map((x) => matcherFor(x, version))
          }),
        ),
      ),
    )
  }
  throw new Error(`not an expectation: ${JSON.stringify(step)}`)
}
