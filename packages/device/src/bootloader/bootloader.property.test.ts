import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { DeviceError } from '../errors.js'
import { createBootControl, otherSlot, type SlotImage } from './boot-control.js'
import { checkBootControl, decodeBootControl, encodeBootControl } from './boot-control-codec.js'
import { boot } from './boot.js'
import {
  confirm,
  confirmDeadlinePassed,
  createBootloaderState,
  install,
  isTrialRunning,
  powerLoss,
  requestTrial,
  type BootStep,
  type BootloaderState,
} from './bootloader.js'

const image: fc.Arbitrary<SlotImage> = fc.record({
  version: fc
    .tuple(fc.nat(9), fc.nat(9), fc.nat(9))
    .map(([a, b, c]) => `${String(a)}.${String(b)}.${String(c)}`),
  securityVersion: fc.nat(6),
  sha256: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7').map((c) => c.repeat(64)),
})

type Event =
  | { readonly kind: 'install'; readonly image: SlotImage }
  | { readonly kind: 'boot'; readonly corruptInactive: boolean }
  | { readonly kind: 'requestTrial' | 'confirm' | 'deadline' | 'powerLoss' | 'tornWrite' }

const event: fc.Arbitrary<Event> = fc.oneof(
  image.map((i) => ({ kind: 'install', image: i }) as const),
  fc.boolean().map((c) => ({ kind: 'boot', corruptInactive: c }) as const),
  fc.constantFrom('requestTrial', 'confirm', 'deadline', 'powerLoss', 'tornWrite').map((kind) => ({
    kind,
  })),
)

function apply(state: BootloaderState, e: Event, maxTrialBoots: number): BootStep {
  switch (e.kind) {
    case 'install':
      return install(state, e.image)
    case 'requestTrial':
      return requestTrial(state)
    case 'confirm':
      return confirm(state)
    case 'deadline':
      return confirmDeadlinePassed(state)
    // Writes are atomic: power lost during any step leaves the record of the step before.
    case 'powerLoss':
    case 'tornWrite':
      return powerLoss(state)
    case 'boot': {
      const inactive = otherSlot(state.control.active)
      return boot(state, {
        maxTrialBoots,
        readSha256: (slot) =>
          e.corruptInactive && slot === inactive
            ? 'f'.repeat(64)
            : (state.control.slots[slot].image?.sha256 ?? ''),
      })
    }
  }
}

const key = (i: SlotImage): string => `${i.version}/${String(i.securityVersion)}/${i.sha256}`

describe('bootloader properties', () => {
  it('never bricks, never defaults to an unconfirmed image, never lowers the floor', () => {
    fc.assert(
      fc.property(
        image,
        fc.integer({ min: 1, max: 4 }),
        fc.array(event, { maxLength: 60 }),
        (factory, maxTrialBoots, events) => {
          let state = createBootloaderState(createBootControl(factory))
          const confirmed = new Set([`A:${key(factory)}`])
          let trialBoots = 0
          for (const e of events) {
            const before = state
            let step: BootStep
            try {
              step = apply(state, e, maxTrialBoots)
            } catch (err) {
              assert.ok(err instanceof DeviceError, String(err))
              assert.notEqual(err.code, 'DEVICE_NO_BOOTABLE_IMAGE', 'bricked')
              if (e.kind === 'confirm') assert.ok(!isTrialRunning(before), 'confirm refused')
              continue
            }
            state = step.state
            const { control } = state
            checkBootControl(control)
            assert.deepEqual(decodeBootControl(encodeBootControl(control)), control)
            assert.ok(control.securityFloor >= before.control.securityFloor, 'floor decreased')
            if (e.kind === 'confirm') {
              assert.ok(isTrialRunning(before), 'confirmed an image not on trial')
              const running = state.running ?? assert.fail('confirm stopped the image')
              const img = control.slots[running].image ?? assert.fail('no image')
              confirmed.add(`${running}:${key(img)}`)
            }
            if (e.kind === 'install') assert.ok(e.image.securityVersion >= control.securityFloor)
            const active = control.slots[control.active].image ?? assert.fail('no default image')
            assert.ok(confirmed.has(`${control.active}:${key(active)}`), 'unconfirmed default')
            if (e.kind !== 'boot') continue
            const booted = step.outcome.booted ?? assert.fail('boot left the device off')
            const img = control.slots[booted].image ?? assert.fail('booted an empty slot')
            assert.ok(img.securityVersion >= control.securityFloor, 'booted below the floor')
            if (step.outcome.reason === 'trial') {
              trialBoots++
              assert.ok(trialBoots <= maxTrialBoots, 'more trial boots than maxTrialBoots')
              assert.equal(step.outcome.attempt, trialBoots)
            } else {
              trialBoots = 0
              assert.equal(booted, control.active, 'did not boot the last good image')
            }
          }
        },
      ),
      { numRuns: 400 },
    )
  })

  it('reverts to the last good image after maxTrialBoots unconfirmed boots', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), image, (maxTrialBoots, next) => {
        const factory = { version: '1.0.0', securityVersion: 0, sha256: 'e'.repeat(64) }
        let state = boot(createBootloaderState(createBootControl(factory))).state
        state = requestTrial(install(state, next).state).state
        for (let i = 1; i <= maxTrialBoots; i++) {
          const step = boot(powerLoss(state).state, { maxTrialBoots })
          assert.deepEqual(step.outcome, { booted: 'B', reason: 'trial', attempt: i })
          state = step.state
        }
        const step = boot(powerLoss(state).state, { maxTrialBoots })
        assert.equal(step.outcome.booted, 'A')
        assert.equal(step.outcome.reason, 'reverted: crash loop')
        assert.deepEqual(step.state.control.slots.A.image, factory)
      }),
    )
  })
})
