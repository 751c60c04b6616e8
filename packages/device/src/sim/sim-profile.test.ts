import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeFaultTarget, decodeSimFault } from './sim-fault.js'
import { decodeSimProfile, defaultSimProfile, resolveProfile } from './sim-profile.js'

const example = (name: string): unknown =>
  JSON.parse(
    readFileSync(
      fileURLToPath(new URL(`../../../../examples/simulator/${name}`, import.meta.url)),
      'utf8',
    ),
  )

function refuses(json: unknown, message: RegExp, code = 'DEVICE_PROFILE_INVALID'): void {
  assert.throws(
    () => decodeSimProfile(json),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, code)
      assert.match(err.message, message)
      return true
    },
  )
}

describe('simulator profiles', () => {
  it('decodes the example profiles in examples/simulator', () => {
    const sleepy = decodeSimProfile(example('sleepy-sensors.json'))
    assert.deepEqual(sleepy.sleep, { awakeS: 20, sleepS: 300 })
    assert.equal(sleepy.format, 'cbor')
    // The session must outlive the sleep: the default is stretched to cover it.
    assert.ok((sleepy.sessionExpiryS ?? 0) > 300)
    const faulty = decodeSimProfile(example('faults.json'))
    assert.equal(faulty.faults?.length, 9)
    const resolved = resolveProfile(faulty)
    assert.deepEqual(
      resolved.faults.map((f) => f.atMs),
      [...resolved.faults.map((f) => f.atMs)].sort((a, b) => a - b),
    )
  })

  it('fills in the defaults, and the default profile decodes to itself', () => {
    const empty = decodeSimProfile({})
    assert.deepEqual(empty, decodeSimProfile(defaultSimProfile))
    assert.equal(empty.reportEveryS, 10)
    assert.equal(empty.firmware?.version, '1.0.0')
    assert.ok(Object.keys(empty.signals ?? {}).includes('temp'))
    const custom = decodeSimProfile({ firmware: { version: '3.0.0' } })
    assert.equal(custom.firmware?.version, '3.0.0')
    assert.equal(custom.firmware.maxTrialBoots, 3, 'other firmware fields keep their defaults')
  })

  it('names the bad field by its JSON pointer', () => {
    refuses({ reportEveryS: 0 }, /profile: \/reportEveryS must be >= 0.05/)
    refuses({ colour: 'red' }, /has unknown properties "colour"/)
    refuses(
      { signals: { temp: { type: 'float', base: 1, noise: -1 } } },
      /\/signals\/temp\/noise must be >= 0/,
    )
    refuses(
      { signals: { temp: { type: 'float' } } },
      /\/signals\/temp must have required properties base/,
    )
    refuses(
      { signals: { temp: { type: 'thermistor', base: 1 } } },
      /\/signals\/temp\/type must be float, counter, boolean or enum/,
    )
    refuses(
      { signals: { 'bad name': { type: 'counter', ratePerS: 1 } } },
      /unknown properties "bad name"/,
    )
    refuses(
      { signals: { ts: { type: 'counter', ratePerS: 1 } } },
      /\/signals\/ts is named ts, which telemetry records reserve/,
    )
    refuses(
      { signals: { t: { type: 'float', base: 1, min: 5, max: 1 } } },
      /\/signals\/t\/min 5 is above \/signals\/t\/max 1/,
    )
    refuses(
      { sleep: { awakeS: 10, sleepS: 600 }, sessionExpiryS: 300 },
      /\/sessionExpiryS 300 must be longer than \/sleep\/sleepS 600/,
    )
    refuses(
      { firmware: { version: 'latest' } },
      /\/firmware\/version "latest" is not a semantic version/,
    )
    refuses(
      { faults: [{ atS: 1, fault: { kind: 'partition', durationS: -4 } }] },
      /\/faults\/0\/fault\/durationS must be > 0/,
    )
    refuses(
      { faults: [{ atS: 1, fault: { kind: 'unplug' } }] },
      /\/faults\/0\/fault\/kind must be one of/,
    )
    refuses(
      { faults: [{ atS: 1, fault: { kind: 'drop' }, target: { share: 2 } }] },
      /\/faults\/0\/target\/share must be <= 1/,
    )
    refuses(
      { reconnect: { initialMs: 5_000, maxMs: 1_000, factor: 2 } },
      /\/reconnect\/maxMs is below/,
    )
    refuses('{}', /\(root\) must be object/)
  })

  it('checks faults and targets on their own too', () => {
    assert.deepEqual(decodeSimFault({ kind: 'drop' }), { kind: 'drop' })
    assert.throws(() => decodeSimFault({ kind: 'clock-skew' }), {
      code: 'DEVICE_FAULT_INVALID',
      message: /required properties ms/,
    })
    assert.throws(() => decodeSimFault(null), {
      code: 'DEVICE_FAULT_INVALID',
      message: /\/kind must be one of/,
    })
    assert.throws(() => decodeFaultTarget({ count: 0 }), {
      code: 'DEVICE_FAULT_INVALID',
      message: /\/count must be >= 1/,
    })
  })
})
