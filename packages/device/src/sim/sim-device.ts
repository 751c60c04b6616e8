import type { IConnackPacket, IPublishPacket } from 'mqtt-packet'
import type { BootloaderState } from '../bootloader/bootloader.js'
import { Link } from '../link/link.js'
import type { LinkAuth, LinkClose, LinkHandler, LinkRef } from '../link/link-types.js'
import type { Timed } from '../link/scheduler.js'
import { backoffDelayMs } from '../shared/backoff.js'
import { handleCloudMessage } from './device-cloud.js'
import { firmwareOnConnected, firmwareStep, type FirmwareJob } from './device-firmware.js'
import { bootDevice, enterSleep, runPhase, type Phase } from './device-power.js'
import { flushBuffer, flushOutbox, reportDue, type OutMessage } from './device-telemetry.js'
import type { FleetContext } from './fleet-context.js'
import { hex, type SimDeviceState } from './fleet-stats.js'
import { deriveSeed, Prng } from './prng.js'
import type { TelemetryRecordOut } from './telemetry-payload.js'

const never = Number.POSITIVE_INFINITY

/** A device's last error, for `fleet.device(id)`. */
export interface SimLastError {
  readonly code: string
  readonly message: string
  readonly atMs: number
}

/**
 * One simulated device: its link, its clock, its signals, its bootloader state and a handful of
 * deadlines, all in one object that is one entry of the fleet's scheduler. Behaviour lives in
 * the `device-*.ts` modules, which work on these fields.
 */
export class SimDevice implements Timed, LinkHandler {
  readonly id: string
  readonly ctx: FleetContext
  readonly link: Link
  /** Drives the signals (and nothing else), so network events never change the values sent. */
  readonly rng: Prng
  /** Drives backoff jitter and fault draws. */
  readonly jitter: Prng
  readonly signals: Float64Array
  state: SimDeviceState = 'offline'
  dueAt = 0
  heapIndex = -1

  reportAt = never
  reconnectAt = never
  phaseAt = never
  phase: Phase = 'none'
  fwAt = never
  attempt = 0
  reportEveryMs: number
  skewMs: number
  /** Sleep cycle: when the current awake window began and ends. */
  cycleStart = 0
  awakeEnd = never
  goingToSleep = false
  buffer: TelemetryRecordOut[] | null = null
  outbox: OutMessage[] | null = null
  boot: BootloaderState
  fw: FirmwareJob | null = null
  rebootsLeft = 0
  rebootRequestedAt = 0
  corruptShare = 0
  corruptUntil = 0
  batteryMah: number
  batteryAt = 0
  bootedAt = 0
  /** Battery empty or no bootable image: off for good. */
  dead = false
  /** A connect was wanted while the previous connection was still closing. */
  connectWhenClosed = false

  messagesSent = 0
  pointsSent = 0
  acked = 0
  refused = 0
  received = 0
  commandsAnswered = 0
  reboots = 0
  connectFailures = 0
  disconnects = 0
  budgetViolations = 0
  maxMessageBytes = 0
  ramPeakBytes = 0
  lastError: SimLastError | null = null

  constructor(id: string, auth: LinkAuth, index: number, seed: number, ctx: FleetContext) {
    this.id = id
    this.ctx = ctx
    this.link = new Link(id, auth, ctx.link, this)
    this.rng = new Prng(deriveSeed(seed, index * 2))
    this.jitter = new Prng(deriveSeed(seed, index * 2 + 1))
    this.signals = ctx.plan.init(this.rng)
    const p = ctx.profile
    this.reportEveryMs = p.reportEveryMs
    this.skewMs = p.clockSkewMs === 0 ? 0 : Math.round(p.clockSkewMs * this.rng.signed())
    this.boot = ctx.factoryBoot
    this.batteryMah = p.battery === undefined ? Number.NaN : p.battery.capacityMah
  }

  /** The device's own clock: the fleet's plus its skew. */
  deviceTime(t: number): number {
    return Math.round(t + this.skewMs)
  }

  fire(now: number): void {
    if (this.ctx.closing) return
    if (now >= this.phaseAt) runPhase(this, now)
    if (now >= this.fwAt) {
      this.fwAt = never
      firmwareStep(this, now)
    }
    if (now >= this.reconnectAt) {
      this.reconnectAt = never
      this.connectNow(now)
    }
    if (now >= this.reportAt) reportDue(this, now)
    this.reschedule()
  }

  /** Puts the device in the scheduler at its earliest deadline, or takes it out. */
  reschedule(): void {
    const at = Math.min(this.phaseAt, this.fwAt, this.reconnectAt, this.reportAt)
    if (at === never || this.ctx.closing) this.ctx.scheduler.cancel(this)
    else if (at !== this.dueAt || this.heapIndex < 0) this.ctx.scheduler.schedule(this, at)
  }

  setState(next: SimDeviceState): void {
    if (next === this.state) return
    this.ctx.counters.move(this.state, next)
    this.state = next
  }

  recordError(code: string, message: string, now: number): void {
    this.ctx.counters.error(code)
    this.lastError = { code, message, atMs: now }
    this.ctx.log?.debug({ device: this.id, code, message }, 'simulated device error')
  }

  /** Starts a connection unless one is open, the device is off or asleep. */
  connectNow(now: number): void {
    if (this.dead || this.state === 'poweredOff' || this.state === 'sleeping') return
    if (this.link.isOpen) {
      // Still closing (a reboot's DISCONNECT): connect as soon as it has closed.
      this.connectWhenClosed = !this.link.isConnected
      return
    }
    this.connectWhenClosed = false
    let started = false
    try {
      started = this.link.connect()
      if (!started) this.recordError('PARTITIONED', 'the link refuses to connect (partition)', now)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      this.recordError('LINK_CONFIG', message, now)
    }
    if (started) {
      this.setState('connecting')
      return
    }
    this.connectFailures++
    this.ctx.counters.add('connectFailures')
    this.setState('offline')
    this.scheduleReconnect(now)
  }

  scheduleReconnect(now: number): void {
    const delay = backoffDelayMs(this.attempt++, this.ctx.profile.reconnect, () =>
      this.jitter.next(),
    )
    this.reconnectAt = now + delay
  }

  // --- LinkHandler ---------------------------------------------------------------------------

  onLinkUp(_link: LinkRef, connack: IConnackPacket): void {
    const now = this.ctx.scheduler.now()
    this.setState('connected')
    this.attempt = 0
    this.reconnectAt = never
    // Subscriptions live in the session: only a new session needs them again.
    if (!connack.sessionPresent) {
      const base = `strata/v1/devices/${this.id}`
      this.link.subscribe([
        { topic: `${base}/commands/request/+`, qos: 1 },
        { topic: `${base}/twin/desired`, qos: 1 },
        { topic: `${base}/firmware/offer`, qos: 1 },
        { topic: `${base}/errors`, qos: 1 },
      ])
    }
    flushOutbox(this)
    flushBuffer(this, now)
    firmwareOnConnected(this, now)
    this.reschedule()
  }

  onLinkDown(_link: LinkRef, close: LinkClose): void {
    const ctx = this.ctx
    const now = ctx.scheduler.now()
    ctx.onLinkClosed()
    this.countClose(close, now)
    if (ctx.closing) {
      if (this.state !== 'poweredOff') this.setState('offline')
      return
    }
    if (this.state === 'poweredOff' || this.dead) return
    if (this.goingToSleep) {
      enterSleep(this, now)
    } else if (this.connectWhenClosed) {
      this.connectWhenClosed = false
      this.connectNow(now)
    } else {
      this.setState('offline')
      this.scheduleReconnect(now)
    }
    this.reschedule()
  }

  onMessage(_link: LinkRef, message: IPublishPacket): void {
    handleCloudMessage(this, message, this.ctx.scheduler.now())
    this.reschedule()
  }

  onPuback(_link: LinkRef, _id: number, reasonCode: number, reason: string | undefined): void {
    const counters = this.ctx.counters
    const now = this.ctx.scheduler.now()
    counters.unacked--
    if (reasonCode >= 0x80) {
      this.refused++
      counters.add('refused')
      this.recordError(`PUBACK_${hex(reasonCode)}`, reason ?? 'the broker refused the message', now)
    } else {
      this.acked++
      counters.add('acked')
    }
    flushOutbox(this)
    flushBuffer(this, now)
  }

  onSuback(_link: LinkRef, _id: number, granted: readonly number[]): void {
    for (const code of granted) {
      if (code >= 0x80) {
        this.recordError(
          `SUBACK_${hex(code)}`,
          'the broker refused a subscription',
          this.ctx.scheduler.now(),
        )
      }
    }
  }

  #closeError(close: LinkClose): string | undefined {
    switch (close.cause) {
      case 'connack':
        return `CONNACK_${hex(close.reasonCode ?? 0)}`
      case 'server-disconnect':
        return `DISCONNECT_${hex(close.reasonCode ?? 0)}`
      case 'socket':
        return close.code ?? 'SOCKET_CLOSED'
      case 'connect-timeout':
        return 'CONNECT_TIMEOUT'
      case 'keepalive-timeout':
        return 'KEEPALIVE_TIMEOUT'
      case 'protocol-error':
        return 'PROTOCOL_ERROR'
      case 'stalled':
        return 'STALLED'
      case 'local':
      case 'dropped':
        return undefined
    }
  }

  countClose(close: LinkClose, now: number): void {
    const counters = this.ctx.counters
    const error = this.#closeError(close)
    if (error !== undefined) this.recordError(error, close.message ?? close.cause, now)
    if (!close.wasConnected) {
      if (close.cause !== 'local' && close.cause !== 'dropped') {
        this.connectFailures++
        counters.add('connectFailures')
      }
    } else if (close.cause !== 'local') {
      this.disconnects++
      counters.add('disconnects')
    }
  }

  /** Starts the device's life at its ramp slot: boot from the factory state, then run. */
  start(at: number): void {
    this.phase = 'ramp'
    this.phaseAt = at
    this.reschedule()
  }

  /** For `fleet.close()`: stops every deadline and closes the link; true when a close is pending. */
  shutdown(): boolean {
    this.reportAt = never
    this.reconnectAt = never
    this.phaseAt = never
    this.fwAt = never
    this.ctx.scheduler.cancel(this)
    if (this.link.isConnected) return this.link.disconnect()
    if (this.link.isOpen) return this.link.drop('fleet closed')
    return false
  }

  /** Called at the ramp slot: the bootloader starts the factory image. */
  powerOn(now: number): void {
    bootDevice(this, now)
  }
}
