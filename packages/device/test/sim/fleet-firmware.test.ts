/**
 * A/B firmware updates through the simulated bootloader: install into the inactive slot,
 * trial-boot, then confirm — or miss the confirm deadline (or crash-loop) and be reverted on the
 * next boot. Every step is reported on firmware/progress in the protocol's states.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFleet, type SimProfile } from '../../src/index.js'
import {
  anonymous,
  eventually,
  startProtocolBroker,
  type ProtocolBroker,
} from './protocol-broker.js'

const opts = { timeout: 20_000 }
const profile: SimProfile = {
  reportEveryS: 0.2,
  reconnect: { initialMs: 50, maxMs: 200, factor: 2 },
  rebootS: 0.1,
  firmware: { downloadS: 0.1, confirmAfterS: 0.1, confirmDeadlineS: 0.6, maxTrialBoots: 2 },
}

function progressOf(b: ProtocolBroker, id: string): string[] {
  return b.of(id, 'firmware.progress').map((r) => {
    if (r.message?.kind !== 'firmware.progress') return '?'
    const p = r.message.progress
    const state: string = p.state
    return p.error === undefined ? state : `${state}:${p.error.code}`
  })
}

describe('firmware updates in the simulator', () => {
  it('installs, trial-boots and confirms the new image', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({
      brokerUrl: b.url,
      identities: anonymous(2),
      connectsPerSecond: 1_000,
      profile,
    })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(() => fleet.stats().connected === 2, 6_000, 'connected')
    assert.equal(
      fleet.inject({ kind: 'firmware', version: '1.1.0', securityVersion: 2, confirms: true }),
      2,
    )
    assert.equal(
      fleet.inject({ kind: 'firmware', version: '1.2.0', securityVersion: 2, confirms: true }),
      0,
      'one update at a time',
    )
    await eventually(
      () => fleet.stats().firmwareConfirmed === 2,
      5_000,
      () => JSON.stringify(fleet.stats()),
    )
    const view = fleet.device('sim-0')!
    assert.equal(view.firmware.active, 'B')
    assert.equal(view.firmware.running, 'B')
    assert.equal(view.firmware.slots.B.version, '1.1.0')
    assert.equal(view.firmware.securityFloor, 2)
    assert.equal(view.firmware.update, undefined)
    await eventually(() => progressOf(b, 'sim-0').includes('confirmed'), 5_000, 'the last report')
    assert.deepEqual(progressOf(b, 'sim-0'), [
      'downloading',
      'downloading',
      'downloaded',
      'verifying',
      'installing',
      'rebooting',
      'confirmed',
    ])
    const s = fleet.stats()
    assert.equal(s.firmwareUpdates, 2)
    assert.equal(s.firmwareReverted, 0)
    assert.equal(s.reboots, 2)
    const reported = b.of('sim-0', 'twin.reported').map((r) => JSON.parse(r.payload.toString()))
    assert.ok(reported.some((p) => p.firmware === '1.1.0'))
  })

  it(
    'reverts an image that never confirms itself, on the boot after the deadline',
    opts,
    async (t) => {
      const b = await startProtocolBroker(t)
      const fleet = createFleet({ brokerUrl: b.url, identities: anonymous(1), profile })
      t.after(() => fleet.close())
      fleet.start()
      await eventually(() => fleet.stats().connected === 1, 6_000, 'connected')
      fleet.inject({ kind: 'firmware', version: '2.0.0', securityVersion: 5, confirms: false })
      await eventually(
        () => fleet.device('sim-0')?.firmware.update?.step === 'trial',
        6_000,
        'on trial',
      )
      assert.equal(fleet.device('sim-0')?.firmware.running, 'B')
      await eventually(
        () => fleet.stats().firmwareReverted === 1,
        8_000,
        () => JSON.stringify(fleet.stats()),
      )
      const view = fleet.device('sim-0')!
      assert.equal(view.firmware.active, 'A')
      assert.equal(view.firmware.slots.B.state, 'bad')
      assert.equal(view.firmware.securityFloor, 1, 'the floor never moved')
      await eventually(() => fleet.device('sim-0')?.state === 'connected', 6_000, 'running A again')
      await eventually(
        () => progressOf(b, 'sim-0').at(-1)?.startsWith('rolled-back') === true,
        5_000,
        'the report',
      )
      assert.equal(progressOf(b, 'sim-0').at(-1), 'rolled-back:FIRMWARE_ROLLED_BACK')
      assert.equal(fleet.stats().firmwareConfirmed, 0)
    },
  )

  it(
    'reverts after a crash loop on trial (maxTrialBoots), and refuses a rollback',
    opts,
    async (t) => {
      const b = await startProtocolBroker(t)
      const fleet = createFleet({
        brokerUrl: b.url,
        identities: anonymous(1),
        profile: {
          ...profile,
          firmware: { ...profile.firmware, confirmAfterS: 5, confirmDeadlineS: 10 },
        },
      })
      t.after(() => fleet.close())
      fleet.start()
      await eventually(() => fleet.stats().connected === 1, 6_000, 'connected')
      fleet.inject({ kind: 'firmware', version: '1.5.0', securityVersion: 3, confirms: true })
      await eventually(
        () => fleet.device('sim-0')?.firmware.update?.step === 'trial',
        6_000,
        'on trial',
      )
      fleet.inject({ kind: 'reboot-loop', count: 2 })
      await eventually(
        () => fleet.stats().firmwareReverted === 1,
        8_000,
        () => JSON.stringify(fleet.stats()),
      )
      assert.equal(fleet.device('sim-0')?.firmware.active, 'A')
      await eventually(() => fleet.device('sim-0')?.state === 'connected', 6_000, 'running again')
      // Anti-rollback: an image below the floor is never installed.
      fleet.inject({ kind: 'firmware', version: '0.9.0', securityVersion: 0, confirms: true })
      await eventually(
        () => progressOf(b, 'sim-0').at(-1)?.startsWith('rejected') === true,
        6_000,
        'rejected',
      )
      assert.equal(progressOf(b, 'sim-0').at(-1), 'rejected:DEVICE_ROLLBACK')
    },
  )

  it('a power loss during the download leaves the slots as they were', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({
      brokerUrl: b.url,
      identities: anonymous(1),
      profile: { ...profile, powerOffS: 0.1, firmware: { ...profile.firmware, downloadS: 2 } },
    })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(() => fleet.stats().connected === 1, 6_000, 'connected')
    fleet.inject({ kind: 'firmware', version: '1.4.0', securityVersion: 2, confirms: true })
    await eventually(() => progressOf(b, 'sim-0').length >= 1, 5_000, 'the download started')
    assert.equal(fleet.inject({ kind: 'power-loss' }), 1)
    await eventually(
      () => progressOf(b, 'sim-0').at(-1) === 'failed:FIRMWARE_POWER_LOSS',
      6_000,
      () => JSON.stringify(progressOf(b, 'sim-0')),
    )
    const view = fleet.device('sim-0')!
    assert.equal(view.firmware.slots.B.state, 'empty')
    assert.equal(view.firmware.running, 'A')
    assert.equal(view.firmware.update, undefined)
    assert.equal(fleet.stats().reboots, 1)
  })

  it('refuses an image whose two slots do not fit the flash budget', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({
      brokerUrl: b.url,
      identities: anonymous(1),
      profile: { ...profile, budget: { ramBytes: 320 * 1024, flashBytes: 4 << 20 } },
    })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(() => fleet.stats().connected === 1, 6_000, 'connected')
    fleet.inject({
      kind: 'firmware',
      version: '3.0.0',
      securityVersion: 1,
      confirms: true,
      imageBytes: 3 << 20,
    })
    await eventually(() => progressOf(b, 'sim-0').length === 1, 6_000, 'the refusal')
    assert.equal(progressOf(b, 'sim-0')[0], 'failed:BUDGET_FLASH')
    assert.equal(fleet.stats().budgetViolations, 1)
    assert.equal(fleet.device('sim-0')?.firmware.slots.B.state, 'empty')
  })

  it('follows a firmware offer from the cloud', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({ brokerUrl: b.url, identities: anonymous(1), profile })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(() => fleet.stats().connected === 1, 6_000, 'connected')
    await new Promise((resolve) => setTimeout(resolve, 100))
    await b.broker.publish({
      topic: 'strata/v1/devices/sim-0/firmware/offer',
      payload: JSON.stringify({
        offerId: 'o-7',
        manifest: { version: '1.3.0', securityVersion: 1 },
      }),
      qos: 1,
    })
    await eventually(
      () => fleet.stats().firmwareConfirmed === 1,
      5_000,
      () => JSON.stringify(fleet.stats()),
    )
    const offerIds = b
      .of('sim-0', 'firmware.progress')
      .map((r) =>
        r.message?.kind === 'firmware.progress' ? r.message.progress.offerId : undefined,
      )
    assert.ok(offerIds.every((id) => id === 'o-7'))
  })
})
