import { deviceTopics, topicTemplates } from '@strata/protocol'

/**
 * The cloud topics the SDK subscribes to on every connect: every `down` topic of the device's
 * namespace (`{name}` levels as `+`), except `certificate/response`, which only a renewal needs.
 */
export function deviceSubscriptions(deviceId: string): string[] {
  const base = deviceTopics(deviceId).base
  return topicTemplates
    .filter(
      (t) =>
        t.namespace === 'devices' && t.direction === 'down' && t.kind !== 'certificate.response',
    )
    .map((t) => [base, ...t.levels.map((l) => (l.startsWith('{') ? '+' : l))].join('/'))
}
