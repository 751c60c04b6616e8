import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createBootControl } from './boot-control.js'
import { decodeBootControl, encodeBootControl } from './boot-control-codec.js'

const control = createBootControl({ version: '1.0.0', securityVersion: 7, sha256: 'c'.repeat(64) })

function corrupt(err: unknown): boolean {
  return (err as { code?: string }).code === 'DEVICE_BOOT_CONTROL_CORRUPT'
}

describe('boot-control codec', () => {
  it('round-trips a record', () => {
    assert.deepEqual(decodeBootControl(encodeBootControl(control)), control)
  })

  it('writes the documented layout', () => {
    assert.equal(
      encodeBootControl(control),
      `{"format":1,"slots":{"A":{"image":{"version":"1.0.0","securityVersion":7,"sha256":"${'c'.repeat(64)}"},"state":"good"},"B":{"image":null,"state":"empty"}},"active":"A","bootCount":0,"trialExpired":false,"securityFloor":7}`,
    )
  })

  it('rejects text that is not JSON', () => {
    assert.throws(() => decodeBootControl('{"format":1'), corrupt)
  })

  it('rejects unknown fields, bad states and broken invariants, naming the field', () => {
    const base = JSON.parse(encodeBootControl(control)) as Record<string, any>
    const cases: [string, (r: Record<string, any>) => void][] = [
      ['/extra', (r) => (r.extra = 1)],
      ['/format', (r) => (r.format = 2)],
      ['/slots/B/state', (r) => (r.slots.B.state = 'weird')],
      ['/slots/B', (r) => (r.slots.B.state = 'good')],
      ['/slots/A', (r) => (r.slots.A.state = 'bad')],
      ['/securityFloor', (r) => (r.securityFloor = 8)],
      ['/bootCount', (r) => (r.bootCount = 1)],
      ['/trialExpired', (r) => (r.trialExpired = true)],
      ['/slots/A/image', (r) => (r.slots.A.image.securityVersion = -1)],
    ]
    for (const [field, edit] of cases) {
      const record = structuredClone(base)
      edit(record)
      assert.throws(
        () => decodeBootControl(JSON.stringify(record)),
        (err: any) => corrupt(err) && err.details.field === field,
        field,
      )
    }
  })
})
