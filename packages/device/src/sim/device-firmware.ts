import { createHash } from 'node:crypto'
import { isStrataError } from '@strata/protocol'
import {
  confirm,
  confirmDeadlinePassed,
  install,
  requestTrial,
  type BootOutcome,
} from '../bootloader/bootloader.js'
import { rebootNow, requestReboot } from './device-power.js'
import { publishControl } from './device-telemetry.js'
import type { SimDevice } from './sim-device.js'

const never = Number.POSITIVE_INFINITY

/** A firmware update a device is following. */
export interface FirmwareJob {
  readonly version: string
  readonly securityVersion: number
  /** False: the new image never confirms itself, and the bootloader reverts. */
  readonly confirms: boolean
  readonly offerId: string | undefined
  readonly imageBytes: number
  step: 'download' | 'downloaded' | 'rebooting' | 'trial'
  /** Power was lost before the image was written: the install never happened. */
  torn: boolean
}

/** What a firmware fault or offer asks for. */
export interface FirmwareRequest {
  readonly version: string
  readonly securityVersion: number
  readonly confirms: boolean
  readonly offerId?: string | undefined
  readonly imageBytes?: number
}

/** A stand-in for the image hash: the simulator has no image bytes, only a version. */
export function imageSha256(version: string): string {
  return createHash('sha256').update(`strata-sim-image:${version}`).digest('hex')
}

function progress(
  d: SimDevice,
  job: FirmwareRequest | null,
  state: string,
  extra: Record<string, unknown> = {},
): void {
  publishControl(d, 'firmware/progress', {
    ...(job?.offerId === undefined ? {} : { offerId: job.offerId }),
    ...(job === null ? {} : { version: job.version }),
    state,
    ...extra,
  })
}

/**
 * Starts an update: download (two progress reports over `downloadS`), verify, install into the
 * inactive slot, request a trial and reboot into it. False (device unaffected) when it is off or
 * already following an update. An image twice over the flash budget is refused and counted.
 */
export function startFirmware(d: SimDevice, request: FirmwareRequest, now: number): boolean {
  if (d.fw !== null || d.dead || d.state === 'poweredOff') return false
  const profile = d.ctx.profile
  const counters = d.ctx.counters
  counters.add('firmwareUpdates')
  const imageBytes = request.imageBytes ?? profile.firmware.imageBytes
  const budget = profile.budget
  if (budget !== undefined && imageBytes * 2 > budget.flashBytes) {
    const message = `two slots of ${String(imageBytes)} bytes do not fit ${String(budget.flashBytes)} bytes of flash`
    d.budgetViolations++
    counters.add('budgetViolations')
    d.recordError('BUDGET_FLASH', message, now)
    progress(d, request, 'failed', { error: { code: 'BUDGET_FLASH', message } })
    return true
  }
  d.fw = {
    version: request.version,
    securityVersion: request.securityVersion,
    confirms: request.confirms,
    offerId: request.offerId,
    imageBytes,
    step: 'download',
    torn: false,
  }
  progress(d, d.fw, 'downloading', { percent: 0 })
  d.fwAt = now + profile.firmware.downloadMs / 2
  return true
}

/** The job's deadline came: the next step of the download, or the trial's confirm or deadline. */
export function firmwareStep(d: SimDevice, now: number): void {
  const job = d.fw
  if (job === null) return
  const fw = d.ctx.profile.firmware
  switch (job.step) {
    case 'download':
      progress(d, job, 'downloading', { percent: 50 })
      job.step = 'downloaded'
      d.fwAt = now + fw.downloadMs / 2
      return
    case 'downloaded':
      installAndReboot(d, job, now)
      return
    case 'rebooting':
      return
    case 'trial':
      trialStep(d, job, now)
      return
  }
}

function installAndReboot(d: SimDevice, job: FirmwareJob, now: number): void {
  progress(d, job, 'downloaded')
  progress(d, job, 'verifying')
  progress(d, job, 'installing')
  try {
    const image = {
      version: job.version,
      securityVersion: job.securityVersion,
      sha256: imageSha256(job.version),
    }
    d.boot = install(d.boot, image).state
    d.boot = requestTrial(d.boot).state
  } catch (err) {
    const code = isStrataError(err) ? err.code : 'FIRMWARE_FAILED'
    const message = err instanceof Error ? err.message : String(err)
    d.recordError(code, message, now)
    // Anti-rollback is a manifest the device must not accept: rejected, not failed.
    progress(d, job, code === 'DEVICE_ROLLBACK' ? 'rejected' : 'failed', {
      error: { code, message },
    })
    d.fw = null
    return
  }
  job.step = 'rebooting'
  progress(d, job, 'rebooting')
  requestReboot(d, now)
}

function trialStep(d: SimDevice, job: FirmwareJob, now: number): void {
  const fw = d.ctx.profile.firmware
  if (job.confirms && d.link.isConnected && now >= d.bootedAt + fw.confirmAfterMs) {
    d.boot = confirm(d.boot).state
    d.ctx.counters.add('firmwareConfirmed')
    progress(d, job, 'confirmed')
    publishControl(d, 'twin/reported', { firmware: job.version })
    d.fw = null
    return
  }
  const deadline = d.bootedAt + fw.confirmDeadlineMs
  if (now >= deadline) {
    // The watchdog: the image did not confirm itself in time; the next boot reverts.
    d.boot = confirmDeadlinePassed(d.boot).state
    rebootNow(d, now, 'crash', d.ctx.profile.rebootMs)
    return
  }
  d.fwAt = deadline
}

/** Connected: an image on trial that confirms itself does so once it has run `confirmAfterS`. */
export function firmwareOnConnected(d: SimDevice, now: number): void {
  const job = d.fw
  if (job?.step !== 'trial' || !job.confirms) return
  d.fwAt = Math.max(now, d.bootedAt + d.ctx.profile.firmware.confirmAfterMs)
}

/** After every boot: report a revert, a torn install, or move a job into its trial. */
export function onBooted(d: SimDevice, outcome: BootOutcome, now: number): void {
  const job = d.fw
  const counters = d.ctx.counters
  if (outcome.progress === 'rolled-back' || outcome.progress === 'failed') {
    if (outcome.progress === 'rolled-back') counters.add('firmwareReverted')
    const code = outcome.progress === 'rolled-back' ? 'FIRMWARE_ROLLED_BACK' : 'FIRMWARE_BAD_IMAGE'
    const message = `the bootloader ${outcome.reason ?? 'reverted'}`
    d.recordError(code, message, now)
    progress(d, job, outcome.progress, { error: { code, message } })
    d.fw = null
    d.fwAt = never
    return
  }
  if (job === null) return
  if (job.torn) {
    const message = 'power was lost before the image was written'
    d.recordError('FIRMWARE_POWER_LOSS', message, now)
    progress(d, job, 'failed', { error: { code: 'FIRMWARE_POWER_LOSS', message } })
    d.fw = null
    return
  }
  if (outcome.reason === 'trial') {
    job.step = 'trial'
    d.fwAt = d.bootedAt + d.ctx.profile.firmware.confirmDeadlineMs
    return
  }
  if (job.step === 'download' || job.step === 'downloaded') {
    // A reboot (command, crash) in the middle of a download: start the download over.
    job.step = 'download'
    d.fwAt = now + d.ctx.profile.firmware.downloadMs / 2
  }
}
