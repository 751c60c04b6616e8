import tls from 'node:tls'
import type { Logger } from 'pino'
import { createBootControl } from '../bootloader/boot-control.js'
import { createBootloaderState } from '../bootloader/bootloader.js'
import { createScheduler, type Timed } from '../link/scheduler.js'
import type { LinkAuth, LinkConfig } from '../link/link-types.js'
import { applyFault } from './device-faults.js'
import { imageSha256 } from './device-firmware.js'
import { viewOf, type SimDeviceView } from './device-view.js'
import type { FleetContext } from './fleet-context.js'
import { parseFleetOptions, type FleetOptions, type SimIdentity } from './fleet-options.js'
import { FleetCounters, type FleetStats } from './fleet-stats.js'
import { Prng } from './prng.js'
import { decodeFaultTarget, decodeSimFault, type FaultTarget, type SimFault } from './sim-fault.js'
import { SimDevice } from './sim-device.js'
import { decodeSimProfile, resolveProfile, type ResolvedProfile } from './sim-profile.js'
import { SignalPlan } from './signal-generator.js'
import { encodeReadings } from './telemetry-payload.js'
import { DeviceError } from '../errors.js'

/** Time `close()` gives devices to DISCONNECT cleanly before it cuts the rest. */
const closeGraceMs = 5_000

/** A running simulated fleet (see {@link createFleet}). */
export interface Fleet {
  /** Starts the ramp (`connectsPerSecond`); devices run until `close()`. Idempotent. */
  start(): void
  /** The fleet's figures now: a copy of running totals, cheap enough to call every 250 ms. */
  stats(): FleetStats
  /**
   * Injects a fault now into the target devices (default all); returns how many it affected.
   * Throws DEVICE_FAULT_INVALID for a fault or target that does not decode.
   */
  inject(fault: SimFault, target?: FaultTarget): number
  /** One device's state, counters, firmware slots and last error; undefined for an unknown id. */
  device(id: string): SimDeviceView | undefined
  /** Clean DISCONNECT of every device, then the final figures. Idempotent. */
  close(): Promise<FleetStats>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Creates a fleet of simulated devices in this process, one MQTT connection each, all driven by
 * one scheduler. Nothing connects before `start()`.
 *
 * @example
 * const fleet = createFleet({
 *   brokerUrl: 'mqtt://127.0.0.1:1883',
 *   identities: [{ id: 'sim-0001', auth: { kind: 'none' } }],
 *   profile: defaultSimProfile,
 *   seed: 42,
 * })
 * fleet.start()
 * setTimeout(async () => console.log(await fleet.close()), 30_000)
 */
export function createFleet(
  options: FleetOptions,
  deps: { clock?: () => number; logger?: Logger } = {},
): Fleet {
  const parsed = parseFleetOptions(options)
  const profile = resolveProfile(decodeSimProfile(options.profile))
  const clock = deps.clock ?? Date.now
  const log = deps.logger?.child({ component: 'fleet' })
  const counters = new FleetCounters(options.identities.length)
  const scheduler = createScheduler({
    clock,
    // A bug in one device's step must not stop the others, nor go unseen: logged and counted.
    onError: (err) => {
      counters.error('SIM_INTERNAL')
      log?.error({ err }, 'simulated device step failed')
    },
  })
  let closingLeft = 0
  let closed: (() => void) | undefined
  const plan = new SignalPlan(profile.signals, clock())
  const link: LinkConfig = {
    host: parsed.host,
    port: parsed.port,
    tls: parsed.tls,
    ...(options.caPem === undefined ? {} : { ca: options.caPem }),
    ...(parsed.tls && options.caPem !== undefined
      ? { sharedSecureContext: tls.createSecureContext({ ca: options.caPem }) }
      : {}),
    protocolVersion: options.protocolVersion ?? 5,
    keepAliveS: profile.keepAliveS,
    sessionExpiryS: profile.sessionExpiryS,
    cleanStart: false,
    connectTimeoutMs: profile.connectTimeoutMs,
    maxInflight: 20,
    maxIncomingBytes: 256 * 1024,
    maxBufferedBytes: 1 << 20,
    scheduler,
  }
  const ctx: FleetContext = {
    profile,
    plan,
    scheduler,
    link,
    counters,
    log,
    factoryBoot: createBootloaderState(
      createBootControl({
        version: profile.firmware.version,
        securityVersion: profile.firmware.securityVersion,
        sha256: imageSha256(profile.firmware.version),
      }),
    ),
    recordBytes: measureRecordBytes(profile, plan),
    closing: false,
    onLinkClosed: () => {
      if (ctx.closing && --closingLeft <= 0) closed?.()
    },
  }
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32)
  const devices = options.identities.map(
    (identity, i) => new SimDevice(identity.id, authOf(identity), i, seed, ctx),
  )
  const byId = new Map(devices.map((d) => [d.id, d]))
  const picker = new Prng(seed ^ 0x5eed)
  let startedAt: number | undefined
  let stoppedAt: number | undefined
  let closing: Promise<FleetStats> | undefined

  const elapsed = () => (startedAt === undefined ? 0 : (stoppedAt ?? clock()) - startedAt)
  const inject = (fault: SimFault, target?: FaultTarget): number => {
    if (ctx.closing) {
      throw new DeviceError('DEVICE_FLEET_CLOSED', 'cannot inject a fault: the fleet is closing', {
        hint: 'Inject faults between start() and close().',
      })
    }
    const checked = decodeSimFault(fault)
    const chosen = pick(
      devices,
      byId,
      target === undefined ? undefined : decodeFaultTarget(target),
      picker,
    )
    const now = clock()
    let affected = 0
    for (const d of chosen) {
      if (applyFault(d, checked, now)) affected++
      d.reschedule()
    }
    log?.info({ fault: checked.kind, affected }, 'fault injected')
    return affected
  }
  const script = faultScript(profile, inject, (err) => log?.error({ err }, 'scripted fault failed'))

  return {
    start() {
      if (startedAt !== undefined) return
      if (ctx.closing) {
        throw new DeviceError('DEVICE_FLEET_CLOSED', 'cannot start a fleet that was closed', {
          hint: 'Create a new fleet.',
        })
      }
      const now = clock()
      startedAt = now
      plan.epochMs = now
      const cps = options.connectsPerSecond ?? 200
      devices.forEach((d, i) => d.start(now + Math.floor((i * 1000) / cps)))
      script.startAt(now, scheduler)
      log?.info({ devices: devices.length, connectsPerSecond: cps }, 'fleet started')
    },
    stats: () => counters.snapshot(elapsed()),
    inject,
    device: (id) => {
      const d = byId.get(id)
      return d === undefined ? undefined : viewOf(d)
    },
    close() {
      closing ??= (async () => {
        ctx.closing = true
        scheduler.cancel(script)
        closingLeft = 0
        for (const d of devices) if (d.shutdown()) closingLeft++
        if (closingLeft > 0) await waitClosed(closeGraceMs)
        if (closingLeft > 0) {
          for (const d of devices) d.link.drop('fleet closed')
          await waitClosed(1_000)
        }
        await scheduler.close()
        stoppedAt = clock()
        log?.info({ elapsedMs: elapsed() }, 'fleet closed')
        return counters.snapshot(elapsed())
      })()
      return closing
    },
    async [Symbol.asyncDispose]() {
      await this.close()
    },
  }

  function waitClosed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      closed = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}

const noAuth: LinkAuth = { kind: 'none' }

function authOf(identity: SimIdentity): LinkAuth {
  const auth = identity.auth
  switch (auth.kind) {
    case 'token':
      return { kind: 'password', username: identity.id, password: auth.token }
    case 'certificate':
      return auth
    case 'none':
      return noAuth
  }
}

/** Bytes one record adds to a payload: what the RAM budget charges per buffered record. */
function measureRecordBytes(profile: ResolvedProfile, plan: SignalPlan): number {
  const rng = new Prng(1)
  const state = plan.init(rng)
  const t = plan.epochMs
  const record = (at: number) => ({
    ...(profile.timestamps ? { ts: at } : {}),
    values: plan.sample(rng, state, at),
  })
  const two = encodeReadings([record(t), record(t + 1000)], profile.format).length
  const one = encodeReadings([record(t + 2000)], profile.format).length
  return Math.max(one, two - one)
}

/** Picks the devices a fault targets: named ones, then `count` or a `share` of them at random. */
function pick(
  devices: readonly SimDevice[],
  byId: ReadonlyMap<string, SimDevice>,
  target: FaultTarget | undefined,
  rng: Prng,
): SimDevice[] {
  const pool =
    target?.devices === undefined
      ? [...devices]
      : target.devices.map((id) => byId.get(id)).filter((d): d is SimDevice => d !== undefined)
  let want = pool.length
  if (target?.count !== undefined) want = Math.min(want, target.count)
  if (target?.share !== undefined)
    want = Math.min(want, Math.max(1, Math.round(target.share * pool.length)))
  if (want >= pool.length) return pool
  // Partial Fisher–Yates: the first `want` of a seeded shuffle.
  for (let i = 0; i < want; i++) {
    const j = i + rng.int(pool.length - i)
    const tmp = pool[i] as SimDevice
    pool[i] = pool[j] as SimDevice
    pool[j] = tmp
  }
  return pool.slice(0, want)
}

/** The profile's scripted faults as one scheduler entry that fires each at its time. */
function faultScript(
  profile: ResolvedProfile,
  inject: (fault: SimFault, target?: FaultTarget) => number,
  onError: (err: unknown) => void,
): Timed & { startAt(now: number, scheduler: { schedule(t: Timed, at: number): void }): void } {
  let next = 0
  let origin = 0
  let scheduler: { schedule(t: Timed, at: number): void } | undefined
  const item = {
    dueAt: 0,
    heapIndex: -1,
    startAt(now: number, s: { schedule(t: Timed, at: number): void }) {
      origin = now
      scheduler = s
      const first = profile.faults[0]
      if (first !== undefined) s.schedule(item, origin + first.atMs)
    },
    fire(now: number) {
      while (next < profile.faults.length) {
        const entry = profile.faults[next]
        if (entry === undefined || origin + entry.atMs > now) break
        next++
        try {
          inject(entry.fault, entry.target)
        } catch (err) {
          onError(err)
        }
      }
      const upcoming = profile.faults[next]
      if (upcoming !== undefined) scheduler?.schedule(item, origin + upcoming.atMs)
    },
  }
  return item
}
