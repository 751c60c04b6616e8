import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

// These tests run the compiled command (bin/strata.js → dist/), the same path users take;
// `npm test` builds first.
const root = fileURLToPath(new URL('../../..', import.meta.url))
const bin = fileURLToPath(new URL('../bin/strata.js', import.meta.url))
const example = (name: string) => `${root}docs/examples/${name}`

function strata(args: string[], input?: string | Uint8Array) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    input,
    encoding: 'utf8',
    cwd: root,
    timeout: 30_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('strata', () => {
  it('prints its version', () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string }
    assert.deepEqual(strata(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('prints help that lists its commands', () => {
    const r = strata(['--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /Usage: strata/)
    assert.match(r.stdout, /protocol/)
    const check = strata(['protocol', 'check', '--help'])
    assert.match(check.stdout, /--format <format>/)
    assert.match(check.stdout, /--json/)
  })

  it('exits 2 with a suggestion on an unknown command', () => {
    const r = strata(['protocl'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /unknown command 'protocl'/)
    assert.match(r.stderr, /Did you mean protocol\?/)
  })
})

describe('strata protocol check', () => {
  it('accepts the documented examples in each encoding', () => {
    for (const [file, summary] of [
      [
        'telemetry.json',
        /valid telemetry \(json, \d+ bytes\): 2 records, 8 values, 2025-11-25T08:00:00.000Z .. 2025-11-25T08:01:00.000Z/,
      ],
      ['telemetry.cbor', /valid telemetry \(cbor, 21 bytes\): 1 record, 2 values/],
      ['telemetry.lp', /valid telemetry \(lp, \d+ bytes\): 2 records, 9 values/],
    ] as const) {
      const r = strata(['protocol', 'check', example(file)])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, summary)
    }
  })

  it('names every bad field and exits 1', () => {
    const r = strata(['protocol', 'check', example('bad-telemetry.json')])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /^error PROTOCOL_INVALID: telemetry: \/values\/temp must be number, integer, boolean or string; \/values\/humidity must be/,
    )
  })

  it('gives line and column for line protocol', () => {
    const r = strata(['protocol', 'check', '-', '--format', 'lp'], 'env temp=1\nenv temp=1,hum\n')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /error PROTOCOL_LINE_SYNTAX: line 2, column \d+/)
  })

  it('gives the byte offset of invalid UTF-8', () => {
    const r = strata(
      ['protocol', 'check', '-', '--format', 'json'],
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
    )
    assert.equal(r.code, 1)
    assert.match(r.stderr, /PROTOCOL_MALFORMED: JSON payload is not valid UTF-8 at byte 2/)
  })

  it('takes kind and format from a topic', () => {
    const r = strata(
      ['protocol', 'check', '-', '--topic', 'strata/v1/devices/d1/firmware/progress'],
      '{"state":"downloading","percent":40}',
    )
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /valid firmware.progress \(json/)
    const down = strata(
      ['protocol', 'check', '-', '--topic', 'strata/v1/devices/d1/twin/desired'],
      '{}',
    )
    assert.equal(down.code, 2)
    assert.match(down.stderr, /not a topic devices publish on/)
  })

  it('prints one JSON object with --json, int64 values as strings', () => {
    const ok = strata(['protocol', 'check', example('telemetry.lp'), '--json'])
    const body = JSON.parse(ok.stdout) as {
      ok: boolean
      message: { records: { values: Record<string, unknown> }[] }
    }
    assert.equal(body.ok, true)
    assert.equal(body.message.records[1]?.values['env.restarts'], '3')
    const bad = strata(['protocol', 'check', example('bad-telemetry.json'), '--json'])
    assert.equal(bad.code, 1)
    assert.equal(
      (JSON.parse(bad.stdout) as { error: { code: string } }).error.code,
      'PROTOCOL_INVALID',
    )
  })

  it('explains an unreadable file and a format it cannot guess', () => {
    const missing = strata(['protocol', 'check', '/nonexistent/x.json'])
    assert.equal(missing.code, 1)
    assert.match(
      missing.stderr,
      /CLI_FILE_UNREADABLE: cannot read \/nonexistent\/x.json: ENOENT\nhint: /,
    )
    const unknown = strata(['protocol', 'check', '-'], '{}')
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /hint: Pass --format json, cbor or lp/)
  })
})

describe('strata protocol topics and acl', () => {
  it('lists a device topics', () => {
    const r = strata(['protocol', 'topics', 'pump-7'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /strata\/v1\/devices\/pump-7\/telemetry +device publishes/)
    assert.match(r.stdout, /strata\/v1\/devices\/pump-7\/twin\/desired +device subscribes/)
    assert.equal(strata(['protocol', 'topics', 'a/b']).code, 2)
  })

  it('answers what the server would decide, with the reason', () => {
    const allowed = strata([
      'protocol',
      'acl',
      'pump-7',
      'publish',
      'strata/v1/devices/pump-7/telemetry/cbor',
    ])
    assert.equal(allowed.code, 0)
    const denied = strata([
      'protocol',
      'acl',
      'pump-7',
      'subscribe',
      'strata/v1/devices/+/twin/desired',
    ])
    assert.equal(denied.code, 1)
    assert.match(denied.stdout, /denied: .*own device id/)
  })
})
