/**
 * The broker processes the hostile suite attacks, and the `hostile()` test wrapper: every attack
 * must get the spec's answer, leave the process up, and leave a bystander client undisturbed.
 */
import { test } from 'node:test'
import type { BrokerSettings } from '../../src/index.js'
import {
  connackPrefix,
  connectPacket,
  type ConnectOptions,
  type Version,
} from '../conformance/packets.js'
import { RawClient } from '../conformance/raw-client.js'
import { ChildBroker } from './child-broker.js'
import { Witness } from './witness.js'

/** Connections the current test opened; the wrapper destroys them whatever happens. */
const opened = new Set<RawClient>()

/** A raw connection to the broker, closed at the end of the test. */
export async function rawClient(broker: ChildBroker): Promise<RawClient> {
  const client = await RawClient.connect(broker.port)
  opened.add(client)
  return client
}

/** A connection that has sent CONNECT and got a successful CONNACK. */
export async function mqttClient(
  broker: ChildBroker,
  version: Version,
  options: ConnectOptions,
  sessionPresent = false,
): Promise<RawClient> {
  const client = await rawClient(broker)
  client.send(connectPacket(version, options))
  await client.expectPacket(connackPrefix(version, sessionPresent))
  return client
}

/**
 * A broker process that is replaced when an attack kills it: the replacement starts as soon as the
 * old one exits, so one crash costs one failing test, not the rest of the suite.
 */
export class BrokerSlot {
  private readonly settings: BrokerSettings
  private current: Promise<ChildBroker> | undefined
  private closed = false

  constructor(settings: BrokerSettings) {
    this.settings = settings
  }

  /** Starts the first process (call early: a start takes seconds). */
  warm(): void {
    this.current ??= this.spawn()
  }

  /** The live broker, after a replacement if the last one died. */
  async get(): Promise<ChildBroker> {
    this.current ??= this.spawn()
    const broker = await this.current
    if (broker.alive) return broker
    this.current = this.spawn()
    return this.current
  }

  /** Throws the current broker away (it is alive but broken); the next get() has a fresh one. */
  async discard(): Promise<void> {
    const broker = await this.current?.catch(() => undefined)
    this.current = this.spawn()
    await broker?.close()
  }

  async close(): Promise<void> {
    this.closed = true
    const broker = await this.current?.catch(() => undefined)
    await broker?.close()
  }

  private spawn(): Promise<ChildBroker> {
    const started: Promise<ChildBroker> = ChildBroker.start(this.settings).then((broker) => {
      broker.onExit(() => {
        // Replace a broker that died under a test (not one that was closed or discarded).
        if (!this.closed && this.current === started) this.current = this.spawn()
      })
      return broker
    })
    // A failed start surfaces in get(); it must not be an unhandled rejection meanwhile.
    started.catch(() => undefined)
    return started
  }
}

/** True when a new client can still connect: an attack can break a broker without killing it. */
async function acceptsConnect(broker: ChildBroker): Promise<boolean> {
  if (!broker.alive) return false
  const probe = await RawClient.connect(broker.port).catch(() => undefined)
  if (probe === undefined) return false
  try {
    probe.send(connectPacket(4, { clientId: 'health-probe' }))
    await probe.expect('20 02 00 00', 2000)
    return true
  } catch {
    return false
  } finally {
    await probe.destroyed()
  }
}

/** Runs `attack` against the slot's broker between a bystander's arrival and its check. */
export function hostile(
  name: string,
  slot: BrokerSlot,
  attack: (broker: ChildBroker) => Promise<void>,
  options: { readonly timeoutMs?: number } = {},
): void {
  test(name, { timeout: options.timeoutMs ?? 30_000 }, async () => {
    const broker = await slot.get()
    const witness = await Witness.open(broker)
    let failure: unknown
    try {
      await attack(broker)
    } catch (err) {
      failure = err
    }
    try {
      if (failure !== undefined)
        throw failure instanceof Error ? failure : new Error(JSON.stringify(failure))
      await witness.check()
    } catch (err) {
      // A dead broker explains every other symptom (a close, a refused connection): report it,
      // with its stack, once the exit has had time to arrive.
      await new Promise((resolve) => setTimeout(resolve, 300))
      if (!broker.alive) throw new Error(broker.describeExit(), { cause: err })
      // Alive but refusing every CONNECT now: say so, and give the next tests a fresh broker.
      if (!(await acceptsConnect(broker))) {
        await slot.discard()
        const detail = err instanceof Error ? err.message : JSON.stringify(err)
        throw new Error(
          `after this attack the broker no longer answers a valid CONNECT (replaced); ${detail}`,
          { cause: err },
        )
      }
      throw err
    } finally {
      await witness.close()
      await Promise.all([...opened].map((client) => client.destroyed()))
      opened.clear()
    }
  })
}
