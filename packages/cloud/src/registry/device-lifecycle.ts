import { CloudError } from '../errors.js'

/**
 * A device's lifecycle. `pending` waits for approval (when its tenant asks for it),
 * `provisioned` has credentials and never connected, `active` has connected, `disabled` is refused
 * until enabled again, `revoked` is final: its credentials are void and it never connects again.
 */
export const deviceStates = ['pending', 'provisioned', 'active', 'disabled', 'revoked'] as const
export type DeviceState = (typeof deviceStates)[number]

/** What moves a device between states. */
export type LifecycleAction = 'approve' | 'connect' | 'disable' | 'enable' | 'revoke'

const transitions: Readonly<Record<LifecycleAction, Partial<Record<DeviceState, DeviceState>>>> = {
  approve: { pending: 'provisioned' },
  connect: { provisioned: 'active', active: 'active' },
  disable: { pending: 'disabled', provisioned: 'disabled', active: 'disabled' },
  enable: { disabled: 'provisioned' },
  revoke: { pending: 'revoked', provisioned: 'revoked', active: 'revoked', disabled: 'revoked' },
}

/** The state after `action`, or a `CLOUD_CONFLICT` naming why it cannot happen. */
export function nextDeviceState(
  state: DeviceState,
  action: LifecycleAction,
  deviceId: string,
): DeviceState {
  const next = transitions[action][state]
  if (next === undefined) {
    throw new CloudError('CLOUD_CONFLICT', `device ${deviceId} is ${state}: it cannot ${action}`, {
      ...(state === 'revoked' ? { hint: 'A revoked device is final; create a new device.' } : {}),
      details: { state, action },
    })
  }
  return next
}

/** May a device in this state connect and exchange messages? */
export function mayConnect(state: DeviceState): boolean {
  return state === 'provisioned' || state === 'active'
}
