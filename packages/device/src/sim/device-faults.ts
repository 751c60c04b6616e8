import { startFirmware } from './device-firmware.js'
import { rebootNow } from './device-power.js'
import type { SimFault } from './sim-fault.js'
import type { SimDevice } from './sim-device.js'

/** Defaults for faults that leave their duration out (seconds). */
const defaultDurationS = { partition: 30, delay: 60, corrupt: 60 } as const

/**
 * Applies a fault to one device now; false when it cannot apply (the device is off, or has no
 * connection to drop, or already follows an update).
 */
export function applyFault(d: SimDevice, fault: SimFault, now: number): boolean {
  if (d.dead) return false
  const off = d.state === 'poweredOff'
  switch (fault.kind) {
    case 'partition':
      d.link.partition(now + (fault.durationS ?? defaultDurationS.partition) * 1000)
      return true
    case 'drop':
      return d.link.drop('drop fault')
    case 'delay':
      d.link.delayWrites(fault.ms, now + (fault.durationS ?? defaultDurationS.delay) * 1000)
      return true
    case 'clock-skew':
      d.skewMs = Math.round(fault.ms)
      return true
    case 'corrupt':
      d.corruptShare = fault.share
      d.corruptUntil = now + (fault.durationS ?? defaultDurationS.corrupt) * 1000
      return true
    case 'power-loss':
      if (off) return false
      rebootNow(d, now, 'power-loss', (fault.offS ?? d.ctx.profile.powerOffMs / 1000) * 1000)
      return true
    case 'reboot-loop':
      if (off) return false
      d.rebootsLeft = fault.count - 1
      rebootNow(d, now, 'crash', d.ctx.profile.rebootMs)
      return true
    case 'firmware':
      return startFirmware(
        d,
        {
          version: fault.version,
          securityVersion: fault.securityVersion,
          confirms: fault.confirms,
          ...(fault.imageBytes === undefined ? {} : { imageBytes: fault.imageBytes }),
        },
        now,
      )
  }
}
