// What the benchmark needs from each stack under test, ours and the peer: where devices connect,
// which processes to measure, and how to read back what was stored.
import type { DeviceCredentials } from './devices.js'

export interface Stack {
  /** For the report, e.g. "mosquitto 2.0.11 + pg COPY subscriber". */
  readonly name: string
  readonly mqttUrl: string
  /** What each simulated device connects with. */
  readonly credentials: readonly DeviceCredentials[]
  /** The processes whose resident memory counts as the stack's. */
  readonly memoryPids: readonly number[]
  /** The processes whose CPU time counts as the stack's (for the peer also its PG backend). */
  readonly cpuPids: readonly number[]
  /** Per device, the newest time stamp visible to a query for all its metrics. */
  latest(devices: readonly string[]): Promise<Map<string, number>>
  /** Points the store holds with time stamps in [fromMs, toMs). */
  countPoints(fromMs: number, toMs: number): Promise<number>
  /**
   * When (epoch ms) the store held `expectedPoints` in all (since the stack started), given when
   * the devices got their last PUBACK; the last time it made progress if it never got there.
   */
  storedAt(expectedPoints: number, lastAckAtMs: number): Promise<number>
  close(): Promise<void>
}
