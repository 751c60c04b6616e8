import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createBootControl, type SlotImage } from './boot-control.js'
import { boot } from './boot.js'
import {
  confirm,
  confirmDeadlinePassed,
  createBootloaderState,
  install,
  isTrialRunning,
  powerLoss,
  requestTrial,
  type BootloaderState,
} from './bootloader.js'

const v1: SlotImage = { version: '1.0.0', securityVersion: 1, sha256: 'a'.repeat(64) }
const v2: SlotImage = { version: '2.0.0', securityVersion: 2, sha256: 'b'.repeat(64) }

/** A factory-fresh device running v1 from slot A. */
function running(): BootloaderState {
  return boot(createBootloaderState(createBootControl(v1))).state
}

/** v2 installed in slot B, requested, and booted on trial. */
function onTrial(): BootloaderState {
  return boot(requestTrial(install(running(), v2).state).state).state
}

function code(code: string): (err: unknown) => boolean {
  return (err) => (err as { code?: string }).code === code
}

describe('bootloader', () => {
  it('boots the factory image normally', () => {
    const step = boot(createBootloaderState(createBootControl(v1)))
    assert.deepEqual(step.outcome, { booted: 'A', reason: 'normal' })
  })

  it('trial-boots a requested image once and counts the attempt', () => {
    const requested = requestTrial(install(running(), v2).state)
    assert.equal(requested.outcome.progress, 'rebooting')
    assert.equal(requested.state.control.slots.B.state, 'pending')
    const step = boot(requested.state)
    assert.deepEqual(step.outcome, { booted: 'B', reason: 'trial', attempt: 1 })
    assert.equal(step.state.control.slots.B.state, 'testing')
    assert.equal(step.state.control.active, 'A')
    assert.ok(isTrialRunning(step.state))
  })

  it('makes a confirmed image the default and raises the anti-rollback floor', () => {
    const step = confirm(onTrial())
    assert.equal(step.outcome.progress, 'confirmed')
    assert.equal(step.state.control.active, 'B')
    assert.equal(step.state.control.securityFloor, 2)
    assert.equal(step.state.control.slots.A.state, 'good')
    const again = boot(powerLoss(step.state).state)
    assert.deepEqual(again.outcome, { booted: 'B', reason: 'normal' })
  })

  it('reverts when the image misses its confirm deadline', () => {
    const expired = confirmDeadlinePassed(onTrial())
    assert.equal(expired.state.running, null)
    const step = boot(expired.state)
    assert.deepEqual(step.outcome, {
      booted: 'A',
      reason: 'reverted: not confirmed',
      progress: 'rolled-back',
    })
    assert.equal(step.state.control.slots.B.state, 'bad')
    assert.equal(step.state.control.securityFloor, 1)
  })

  it('retries a trial cut by power loss, then reverts after maxTrialBoots (crash loop)', () => {
    let state = onTrial()
    state = boot(powerLoss(state).state, { maxTrialBoots: 3 }).state
    const third = boot(powerLoss(state).state, { maxTrialBoots: 3 })
    assert.equal(third.outcome.attempt, 3)
    const step = boot(powerLoss(third.state).state, { maxTrialBoots: 3 })
    assert.deepEqual(step.outcome, {
      booted: 'A',
      reason: 'reverted: crash loop',
      progress: 'rolled-back',
    })
    assert.equal(step.state.control.bootCount, 0)
    assert.equal(step.state.control.slots.B.state, 'bad')
  })

  it('refuses a trial image whose bytes fail the hash check', () => {
    const requested = requestTrial(install(running(), v2).state).state
    const step = boot(requested, {
      readSha256: (slot) => (slot === 'A' ? v1.sha256 : 'f'.repeat(64)),
    })
    assert.deepEqual(step.outcome, {
      booted: 'A',
      reason: 'reverted: bad image',
      progress: 'failed',
    })
    assert.equal(step.state.control.slots.B.state, 'bad')
  })

  it('falls back to the previous good image when the default one is corrupt', () => {
    const v21: SlotImage = { version: '2.1.0', securityVersion: 2, sha256: 'd'.repeat(64) }
    const onB = confirm(onTrial()).state
    const onA = confirm(boot(requestTrial(install(onB, v21).state).state).state).state
    assert.equal(onA.control.active, 'A')
    const step = boot(powerLoss(onA).state, {
      readSha256: (slot) => (slot === 'B' ? v2.sha256 : 'f'.repeat(64)),
    })
    assert.deepEqual(step.outcome, {
      booted: 'B',
      reason: 'reverted: bad image',
      progress: 'failed',
    })
    assert.equal(step.state.control.active, 'B')
    assert.equal(step.state.control.slots.A.state, 'bad')
  })

  it('does not fall back to a previous image below the floor', () => {
    const confirmed = powerLoss(confirm(onTrial()).state).state
    assert.throws(
      () => boot(confirmed, { readSha256: () => 'f'.repeat(64) }),
      code('DEVICE_NO_BOOTABLE_IMAGE'),
    )
  })

  it('refuses to install below the anti-rollback floor', () => {
    const confirmed = confirm(onTrial()).state
    assert.throws(() => install(confirmed, v1), code('DEVICE_ROLLBACK'))
    assert.doesNotThrow(() => install(confirmed, { ...v1, securityVersion: 2 }))
  })

  it('refuses to install while a trial is running', () => {
    assert.throws(() => install(onTrial(), v2), code('DEVICE_TRIAL_IN_PROGRESS'))
  })

  it('refuses an image that is not valid', () => {
    assert.throws(() => install(running(), { ...v2, version: '2.0' }), code('DEVICE_IMAGE_INVALID'))
    assert.throws(
      () => install(running(), { ...v2, sha256: 'B'.repeat(64) }),
      code('DEVICE_IMAGE_INVALID'),
    )
  })

  it('confirms only a running image on trial', () => {
    assert.throws(() => confirm(running()), code('DEVICE_NOT_TESTING'))
    assert.throws(() => confirm(powerLoss(onTrial()).state), code('DEVICE_NOT_RUNNING'))
    assert.throws(() => confirmDeadlinePassed(running()), code('DEVICE_NOT_TESTING'))
  })

  it('refuses a trial of an empty or bad slot', () => {
    assert.throws(() => requestTrial(running()), code('DEVICE_NO_IMAGE'))
    const reverted = boot(confirmDeadlinePassed(onTrial()).state).state
    assert.throws(() => requestTrial(reverted), code('DEVICE_NO_IMAGE'))
  })

  it('refuses a maxTrialBoots below 1', () => {
    assert.throws(() => boot(onTrial(), { maxTrialBoots: 0 }), code('DEVICE_OPTIONS_INVALID'))
  })
})
