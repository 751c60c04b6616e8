import type { FleetStats } from '@strata/device'
import { fields } from './api-output.js'

const n = (value: number) => value.toLocaleString('en-US')

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)}s`
}

/** The one-line progress of a running fleet (on a terminal only). */
export function progressLine(s: FleetStats): string {
  return [
    seconds(s.elapsedMs),
    `connected ${n(s.connected)}/${n(s.devices)}`,
    `sleeping ${n(s.sleeping)}`,
    `offline ${n(s.offline + s.poweredOff)}`,
    `sent ${n(s.messagesSent)}`,
    `acked ${n(s.acked)}`,
    `received ${n(s.received)}`,
    `errors ${n(errorCount(s))}`,
  ].join('  ')
}

/** What a finished run did, in prose. */
export function summaryText(s: FleetStats): string {
  const errors = Object.entries(s.errors).sort((a, b) => b[1] - a[1])
  return [
    `simulated ${n(s.devices)} devices for ${seconds(s.elapsedMs)}`,
    fields([
      ['messages sent', n(s.messagesSent)],
      ['points sent', n(s.pointsSent)],
      ['acknowledged', n(s.acked)],
      ['refused', n(s.refused)],
      ['unacknowledged at stop', n(s.unacked)],
      ['received from the cloud', n(s.received)],
      ['commands answered', n(s.commandsAnswered)],
      ['connect failures', n(s.connectFailures)],
      ['disconnects', n(s.disconnects)],
      ['reboots', n(s.reboots)],
      [
        'firmware updates',
        `${n(s.firmwareUpdates)} (confirmed ${n(s.firmwareConfirmed)}, reverted ${n(s.firmwareReverted)})`,
      ],
      ['budget violations', n(s.budgetViolations)],
    ]),
    errors.length === 0
      ? 'errors: none'
      : `errors:\n${fields(errors.map(([code, count]) => [code, n(count)]))}`,
  ].join('\n')
}

function errorCount(s: FleetStats): number {
  let total = 0
  for (const count of Object.values(s.errors)) total += count
  return total
}
