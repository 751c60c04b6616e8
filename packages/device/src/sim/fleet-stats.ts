/**
 * What a simulated device is doing now. `offline`: running and awake but not connected (waiting
 * for its ramp slot, backing off, partitioned); `poweredOff`: not running (rebooting, after a
 * power loss, battery empty, bricked).
 */
export type SimDeviceState = 'offline' | 'connecting' | 'connected' | 'sleeping' | 'poweredOff'

/**
 * The fleet's figures: current states (they sum to `devices`) and counters since `start()`.
 * Kept as running totals, so `stats()` is a copy of a few numbers however large the fleet.
 */
export interface FleetStats {
  readonly devices: number
  readonly connected: number
  readonly connecting: number
  readonly sleeping: number
  readonly offline: number
  readonly poweredOff: number
  /** Every PUBLISH devices sent: telemetry, twin reports, command responses, firmware progress. */
  readonly messagesSent: number
  /** Telemetry messages among them. */
  readonly telemetrySent: number
  /** Values in the telemetry sent (a record of three signals is three points). */
  readonly pointsSent: number
  /** QoS 1 messages acknowledged with success. */
  readonly acked: number
  /** QoS 1 messages refused by the broker (PUBACK reason code ≥ 0x80). */
  readonly refused: number
  /** QoS 1 messages in flight now (sent, not acknowledged). */
  readonly unacked: number
  /** Messages from the cloud (commands, twin, offers, errors), including those queued during sleep. */
  readonly received: number
  readonly commandsAnswered: number
  readonly reboots: number
  /** Connection attempts that never got a successful CONNACK. */
  readonly connectFailures: number
  /** Established connections that ended other than by the device's own DISCONNECT. */
  readonly disconnects: number
  readonly firmwareUpdates: number
  readonly firmwareConfirmed: number
  readonly firmwareReverted: number
  /** Things refused because they would not fit the profile's RAM or flash budget. */
  readonly budgetViolations: number
  /** Telemetry records held in device RAM now, waiting for a connection. */
  readonly recordsBuffered: number
  /** Records lost: buffer overflow, over budget, or RAM lost in a power loss or reboot. */
  readonly recordsDropped: number
  /** In-flight QoS 1 messages lost with a device's RAM (power loss, reboot). */
  readonly lost: number
  /** By reason: `CONNACK_0x86`, `PUBACK_0x99`, `DISCONNECT_0x8E`, `ECONNREFUSED`, `BUDGET_RAM`… */
  readonly errors: Readonly<Record<string, number>>
  /** Milliseconds since `start()`. */
  readonly elapsedMs: number
}

type Counter = Exclude<
  keyof FleetStats,
  SimDeviceState | 'devices' | 'errors' | 'elapsedMs' | 'unacked' | 'recordsBuffered'
>

/** The running totals behind `FleetStats`; devices add to them as things happen. */
export class FleetCounters {
  readonly devices: number
  readonly states: Record<SimDeviceState, number>
  readonly counts: Record<Counter, number> = {
    messagesSent: 0,
    telemetrySent: 0,
    pointsSent: 0,
    acked: 0,
    refused: 0,
    received: 0,
    commandsAnswered: 0,
    reboots: 0,
    connectFailures: 0,
    disconnects: 0,
    firmwareUpdates: 0,
    firmwareConfirmed: 0,
    firmwareReverted: 0,
    budgetViolations: 0,
    recordsDropped: 0,
    lost: 0,
  }
  unacked = 0
  recordsBuffered = 0
  readonly errors: Record<string, number> = {}

  constructor(devices: number) {
    this.devices = devices
    this.states = { offline: devices, connecting: 0, connected: 0, sleeping: 0, poweredOff: 0 }
  }

  add(counter: Counter, n = 1): void {
    this.counts[counter] += n
  }

  error(key: string): void {
    this.errors[key] = (this.errors[key] ?? 0) + 1
  }

  move(from: SimDeviceState, to: SimDeviceState): void {
    this.states[from]--
    this.states[to]++
  }

  snapshot(elapsedMs: number): FleetStats {
    return {
      devices: this.devices,
      ...this.states,
      ...this.counts,
      unacked: this.unacked,
      recordsBuffered: this.recordsBuffered,
      errors: { ...this.errors },
      elapsedMs,
    }
  }
}

/** `0x86` → `"0x86"`: reason codes in error keys are two hex digits, as the MQTT spec writes them. */
export function hex(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(2, '0')}`
}
