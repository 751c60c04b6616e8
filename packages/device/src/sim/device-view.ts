import type { SlotName, SlotState } from '../bootloader/boot-control.js'
import type { SimDeviceState } from './fleet-stats.js'
import type { SimLastError, SimDevice } from './sim-device.js'

/** One firmware slot as `fleet.device(id)` shows it. */
export interface SimSlotView {
  readonly version: string | null
  readonly securityVersion: number | null
  readonly state: SlotState
}

/** A simulated device now: state, counters, firmware slots, budget use and its last error. */
export interface SimDeviceView {
  readonly id: string
  readonly state: SimDeviceState
  /** QoS 1 messages sent and not yet acknowledged. */
  readonly inflight: number
  /** Telemetry records waiting in RAM for a connection. */
  readonly bufferedRecords: number
  readonly reportEveryS: number
  /** How far the device's clock is off (its time stamps carry it). */
  readonly clockSkewMs: number
  /** Charge left, 0–100, when the profile has a battery. */
  readonly batteryPercent?: number
  readonly counters: {
    readonly messagesSent: number
    readonly pointsSent: number
    readonly acked: number
    readonly refused: number
    readonly received: number
    readonly commandsAnswered: number
    readonly reboots: number
    readonly connectFailures: number
    readonly disconnects: number
    readonly budgetViolations: number
  }
  readonly firmware: {
    /** The slot running now; null while the device is off. */
    readonly running: SlotName | null
    /** The default slot: the last confirmed image. */
    readonly active: SlotName
    readonly securityFloor: number
    /** Boots of an unconfirmed trial image so far. */
    readonly bootCount: number
    readonly slots: { readonly A: SimSlotView; readonly B: SimSlotView }
    /** The update the device is following, if any. */
    readonly update?: { readonly version: string; readonly step: string }
  }
  /** RAM and flash the device would need against the profile's budget. */
  readonly budget?: {
    readonly ramBytes: number
    readonly ramPeakBytes: number
    readonly flashBytes: number
    readonly flashNeededBytes: number
  }
  readonly lastError?: SimLastError
}

/** Builds the view of one device (a copy: later changes do not show in it). */
export function viewOf(d: SimDevice): SimDeviceView {
  const p = d.ctx.profile
  const control = d.boot.control
  const slot = (name: SlotName): SimSlotView => {
    const s = control.slots[name]
    return {
      version: s.image?.version ?? null,
      securityVersion: s.image?.securityVersion ?? null,
      state: s.state,
    }
  }
  return {
    id: d.id,
    state: d.state,
    inflight: d.link.inflightCount,
    bufferedRecords: d.buffer?.length ?? 0,
    reportEveryS: d.reportEveryMs / 1000,
    clockSkewMs: d.skewMs,
    ...(p.battery === undefined
      ? {}
      : { batteryPercent: Math.round((d.batteryMah / p.battery.capacityMah) * 1000) / 10 }),
    counters: {
      messagesSent: d.messagesSent,
      pointsSent: d.pointsSent,
      acked: d.acked,
      refused: d.refused,
      received: d.received,
      commandsAnswered: d.commandsAnswered,
      reboots: d.reboots,
      connectFailures: d.connectFailures,
      disconnects: d.disconnects,
      budgetViolations: d.budgetViolations,
    },
    firmware: {
      running: d.boot.running,
      active: control.active,
      securityFloor: control.securityFloor,
      bootCount: control.bootCount,
      slots: { A: slot('A'), B: slot('B') },
      ...(d.fw === null ? {} : { update: { version: d.fw.version, step: d.fw.step } }),
    },
    ...(p.budget === undefined
      ? {}
      : {
          budget: {
            ramBytes: p.budget.ramBytes,
            ramPeakBytes: d.ramPeakBytes,
            flashBytes: p.budget.flashBytes,
            flashNeededBytes: 2 * p.firmware.imageBytes,
          },
        }),
    ...(d.lastError === null ? {} : { lastError: d.lastError }),
  }
}
