import { can, type Principal } from '../accounts/roles.js'
import { CloudError } from '../errors.js'
import { parseLabelQuery } from '../registry/label-query.js'
import { liveTopics, topicPermissions, type LiveEvent, type LiveTopic } from './live-events.js'
import { eventFrame, type SubscribeFrame } from './live-frames.js'
import type { HubSubscription } from './live-hub.js'

/** The topics a principal's role may subscribe to. */
export function readableTopics(principal: Principal): LiveTopic[] {
  return liveTopics.filter((t) => can(principal, topicPermissions[t]))
}

/**
 * Turns a subscribe frame into a hub subscription of the principal's tenant whose events become
 * frames tagged with the subscription id. Throws `CLOUD_FORBIDDEN` naming the first topic the
 * role may not read, and `CLOUD_INVALID` for a bad label query.
 *
 * @example
 * const sub = subscriptionOf(principal, { type: 'subscribe', id: 's1', topics: ['presence'] },
 *   (frame, droppable) => queue.push(frame, droppable))
 * hub.add(sub)
 */
export function subscriptionOf(
  principal: Principal,
  frame: SubscribeFrame,
  send: (frame: string, droppable: boolean) => void,
): HubSubscription & { readonly id: string } {
  for (const topic of frame.topics) {
    const permission = topicPermissions[topic]
    if (!can(principal, permission)) {
      throw new CloudError(
        'CLOUD_FORBIDDEN',
        `role ${principal.role} may not subscribe to ${topic}: it needs ${permission}`,
        {
          hint: 'Subscribe to the topics the ready frame lists, or use a token with a role that grants it.',
          details: { topic, permission, role: principal.role },
        },
      )
    }
  }
  const labels =
    frame.labels === undefined || frame.labels.trim() === ''
      ? undefined
      : parseLabelQuery(frame.labels)
  const id = frame.id
  return {
    id,
    tenantId: principal.tenantId,
    topics: new Set(frame.topics),
    devices: frame.devices === undefined ? undefined : new Set(frame.devices),
    labels,
    metrics: frame.metrics === undefined ? undefined : new Set(frame.metrics),
    deliver: (event: LiveEvent) => send(eventFrame(id, event), event.type === 'telemetry'),
  }
}
