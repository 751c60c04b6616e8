import { isStrataError } from '@strata/protocol'
import { boot } from '../bootloader/boot.js'
import { powerLoss } from '../bootloader/bootloader.js'
import { onBooted } from './device-firmware.js'
import { publishControl } from './device-telemetry.js'
import type { SimDevice } from './sim-device.js'

const never = Number.POSITIVE_INFINITY
/** A device in a reboot loop crashes this long after each boot. */
const crashAfterMs = 500
/** How long a clean close (sleep, reboot) waits for in-flight messages to be acknowledged. */
const drainGraceMs = 2_000
const drainPollMs = 100

/** What the device's phase deadline means when it comes. */
export type Phase = 'none' | 'ramp' | 'boot' | 'crash' | 'reboot' | 'awake-end' | 'wake'

/** Runs the phase whose deadline has come. */
export function runPhase(d: SimDevice, now: number): void {
  const at = d.phaseAt
  const phase = d.phase
  d.phase = 'none'
  d.phaseAt = never
  switch (phase) {
    case 'ramp':
    case 'boot':
      bootDevice(d, at)
      return
    case 'crash':
      rebootNow(d, now, 'crash', d.ctx.profile.rebootMs)
      return
    case 'reboot':
      if (!drained(d, now, d.rebootRequestedAt)) {
        setPhase(d, 'reboot', now + drainPollMs)
        return
      }
      rebootNow(d, now, 'graceful', d.ctx.profile.rebootMs)
      return
    case 'awake-end':
      goToSleep(d, now)
      return
    case 'wake':
      if (drainBattery(d, now)) startWake(d, at, now)
      return
    case 'none':
      return
  }
}

function setPhase(d: SimDevice, phase: SimDevice['phase'], at: number): void {
  d.phase = phase
  d.phaseAt = at
}

/** True when nothing waits to be sent or acknowledged, or the grace since `since` is over. */
function drained(d: SimDevice, now: number, since: number): boolean {
  const busy = d.link.isConnected && (d.link.inflightCount > 0 || d.outbox !== null)
  return !busy || now >= since + drainGraceMs
}

/**
 * The bootloader picks a slot (docs/formats/boot-control.md); the firmware flow hears the outcome.
 * A device in a reboot loop crashes again shortly after; otherwise it starts running.
 */
export function bootDevice(d: SimDevice, now: number): void {
  const fw = d.ctx.profile.firmware
  let step
  try {
    step = boot(d.boot, { maxTrialBoots: fw.maxTrialBoots })
  } catch (err) {
    const code = isStrataError(err) ? err.code : 'BOOT_FAILED'
    d.recordError(code, err instanceof Error ? err.message : String(err), now)
    d.dead = true
    d.setState('poweredOff')
    return
  }
  d.boot = step.state
  d.bootedAt = now
  onBooted(d, step.outcome, now)
  if (d.rebootsLeft > 0) {
    d.rebootsLeft--
    d.setState('offline')
    setPhase(d, 'crash', now + crashAfterMs)
    return
  }
  const running = d.boot.running === null ? undefined : d.boot.control.slots[d.boot.running].image
  publishControl(d, 'twin/reported', {
    firmware: running?.version ?? 'unknown',
    reportEveryS: d.reportEveryMs / 1000,
  })
  beginRun(d, now)
}

/** Starts reporting and connecting: at once for a mains device, as a wake for a sleepy one. */
function beginRun(d: SimDevice, at: number): void {
  d.batteryAt = at
  if (d.ctx.profile.sleep !== undefined) {
    startWake(d, at, at)
    return
  }
  d.setState('offline')
  d.reportAt = at + Math.floor(d.rng.next() * d.reportEveryMs)
  d.connectNow(at)
}

/** A sleepy device wakes: it reports at once and every period until the awake window ends. */
function startWake(d: SimDevice, at: number, now: number): void {
  const sleep = d.ctx.profile.sleep
  if (sleep === undefined) return
  d.cycleStart = at
  d.awakeEnd = at + sleep.awakeMs
  d.reportAt = at
  setPhase(d, 'awake-end', d.awakeEnd)
  d.setState('offline')
  d.connectNow(now)
}

/** End of the awake window: wait for acknowledgements, then a clean DISCONNECT (session kept). */
function goToSleep(d: SimDevice, now: number): void {
  if (!drained(d, now, d.awakeEnd)) {
    setPhase(d, 'awake-end', now + drainPollMs)
    return
  }
  d.reportAt = never
  d.reconnectAt = never
  if (d.link.isOpen) {
    d.goingToSleep = true
    d.link.disconnect()
  } else {
    enterSleep(d, now)
  }
}

/** The link is closed: sleep until the next wake of the cycle. */
export function enterSleep(d: SimDevice, now: number): void {
  const sleep = d.ctx.profile.sleep
  d.goingToSleep = false
  if (sleep === undefined) return
  if (!drainBattery(d, now)) return
  d.setState('sleeping')
  const wakeAt = d.cycleStart + sleep.awakeMs + sleep.sleepMs
  setPhase(d, 'wake', wakeAt > now ? wakeAt : now + sleep.sleepMs)
}

/** A reboot asked for (command, firmware): first let the answers and progress reports go out. */
export function requestReboot(d: SimDevice, now: number): void {
  d.rebootRequestedAt = now
  setPhase(d, 'reboot', now)
}

/**
 * The device goes off: a graceful reboot sends DISCONNECT, a crash or power loss does not. RAM
 * is lost either way (offline buffer, queued reports, in-flight messages); the persisted
 * boot-control record keeps its last completed write. It boots again after `offMs`.
 */
export function rebootNow(
  d: SimDevice,
  now: number,
  how: 'graceful' | 'crash' | 'power-loss',
  offMs: number,
): void {
  const counters = d.ctx.counters
  d.reboots++
  counters.add('reboots')
  d.setState('poweredOff')
  if (how === 'graceful' && d.link.isConnected) d.link.disconnect()
  else d.link.drop(how)
  loseRam(d)
  d.boot = powerLoss(d.boot).state
  // Power lost before the image was written: the install never happened (the record is atomic).
  if (how === 'power-loss' && d.fw !== null && d.fw.step !== 'rebooting' && d.fw.step !== 'trial')
    d.fw.torn = true
  d.goingToSleep = false
  d.reportAt = never
  d.reconnectAt = never
  d.awakeEnd = never
  d.fwAt = never
  setPhase(d, 'boot', now + offMs)
}

function loseRam(d: SimDevice): void {
  const counters = d.ctx.counters
  const lost = d.link.clearInflight()
  counters.unacked -= lost
  counters.add('lost', lost)
  const buffered = d.buffer?.length ?? 0
  counters.recordsBuffered -= buffered
  counters.add('recordsDropped', buffered)
  d.buffer = null
  d.outbox = null
}

/**
 * Charges the battery for the time since it was last charged; an empty device is off for good.
 * Returns false when the device is (now) dead.
 */
export function drainBattery(d: SimDevice, now: number, extraMah = 0): boolean {
  const battery = d.ctx.profile.battery
  if (d.dead) return false
  if (battery === undefined) return true
  const perS = d.state === 'sleeping' ? battery.sleepMahPerS : battery.awakeMahPerS
  d.batteryMah -= perS * (Math.max(0, now - d.batteryAt) / 1000) + extraMah
  d.batteryAt = now
  if (d.batteryMah > 0) return true
  d.batteryMah = 0
  d.dead = true
  d.recordError('BATTERY_EMPTY', 'the battery is empty; the device is off', now)
  d.link.drop('battery empty')
  d.setState('poweredOff')
  d.reportAt = never
  d.reconnectAt = never
  d.phase = 'none'
  d.phaseAt = never
  d.fwAt = never
  return false
}
