import type { EventEmitter } from 'node:events'
import { DeviceError } from '../errors.js'
import type { DeviceClientEvents, DeviceClientState } from './device-client-events.js'
import { closedError } from './device-connection.js'

/** Resolves once `client` is online; rejects when it closes first, or after `timeoutMs`. */
export function waitOnline(
  client: EventEmitter<DeviceClientEvents> & { readonly state: DeviceClientState },
  timeoutMs: number,
): Promise<void> {
  const now = client.state
  if (now.status === 'online') return Promise.resolve()
  if (now.status === 'closed') return Promise.reject(closedError(now))
  return new Promise((resolve, reject) => {
    const onState = (s: DeviceClientState) => {
      if (s.status === 'online') done(undefined)
      else if (s.status === 'closed') done(closedError(s))
    }
    const timer = setTimeout(() => {
      const s = client.state
      const reason = s.status === 'offline' ? ` (last: ${s.reason})` : ''
      done(
        new DeviceError('DEVICE_TIMEOUT', `not online after ${String(timeoutMs)} ms${reason}`, {
          hint: 'Check the URL, the network and the credentials; the client keeps retrying.',
          retryable: true,
        }),
      )
    }, timeoutMs)
    const done = (err: Error | undefined) => {
      clearTimeout(timer)
      client.off('state', onState)
      if (err === undefined) resolve()
      else reject(err)
    }
    client.on('state', onState)
  })
}

/** `promise`, or a rejection after `ms`; the timer never outlives it. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${String(ms)} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
