import {
  authorizePublish,
  authorizeSubscribe,
  isDeviceId,
  topicRoot,
  topicTemplates,
  type TopicDecision,
} from '@strata/protocol'
import { CliError } from '../errors.js'

/** One row of a device's topic tree, as `strata protocol topics` prints it. */
export interface TopicRow {
  readonly topic: string
  readonly direction: 'device publishes' | 'device subscribes'
  readonly formats: string
}

/** The concrete topic tree of one device: what it may publish and subscribe to. */
export function topicsOf(deviceId: string): TopicRow[] {
  requireDeviceId(deviceId)
  return topicTemplates
    .filter((t) => t.namespace === 'devices')
    .map((t) => ({
      topic: `${topicRoot}/devices/${deviceId}/${t.levels.join('/')}`,
      direction: t.direction === 'up' ? 'device publishes' : 'device subscribes',
      formats:
        t.direction === 'up'
          ? t.formats.map((f) => (f === 'json' ? 'json (default)' : `/${f}`)).join(', ')
          : '',
    }))
}

/** Asks the authoriser what it would decide for a device, the same as the server will. */
export function decide(
  deviceId: string,
  action: 'publish' | 'subscribe',
  topic: string,
): TopicDecision {
  requireDeviceId(deviceId)
  const identity = { kind: 'device', deviceId } as const
  return action === 'publish'
    ? authorizePublish(identity, topic)
    : authorizeSubscribe(identity, topic)
}

function requireDeviceId(deviceId: string): void {
  if (!isDeviceId(deviceId)) {
    throw new CliError('CLI_USAGE', `${JSON.stringify(deviceId)} is not a valid device id`, {
      hint: 'A device id is 1-64 letters, digits and ._:- starting with a letter or digit.',
    })
  }
}
