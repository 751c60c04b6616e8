import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { StrataNode } from '@strata/cloud'
import { eventually, runStrata, startNodeWithAdmin, type ApiCall } from './node-helpers.js'

// `strata simulate` against a real node on ports 0: the fleet provisions itself with a claim token
// over MQTTS, reports, sleeps and wakes, gets a command queued while it slept, rides out a
// partition injected live through `strata simulate fault`, and a rerun reuses its identities.
const root = mkdtempSync(join(tmpdir(), 'strata-simulate-'))
const simData = join(root, 'sim')
const profilePath = join(root, 'profile.json')
let node: StrataNode
let api: ApiCall
let token: string
let flags: string[]

before(async () => {
  process.env['STRATA_CONFIG_DIR'] = join(root, 'config')
  ;({ node, token, api } = await startNodeWithAdmin(root))
  flags = ['--url', node.httpUrl, '--token', token, '--data', simData]
  writeFileSync(
    profilePath,
    JSON.stringify({
      reportEveryS: 1,
      signals: { temp: { type: 'float', base: 21, spread: 1, noise: 0.1, decimals: 2 } },
      sleep: { awakeS: 2, sleepS: 2 },
      reconnect: { initialMs: 200, maxMs: 1000, factor: 2 },
    }),
  )
})
after(async () => {
  await node.close()
  rmSync(root, { recursive: true, force: true })
})

/** The running simulator's control (its URL and token are in DATA/control.json). */
async function control(path: string): Promise<any> {
  const { url, token } = JSON.parse(readFileSync(join(simData, 'control.json'), 'utf8'))
  const res = await fetch(`${url as string}${path}`, {
    headers: { authorization: `Bearer ${token as string}` },
  })
  return res.json()
}

describe('strata simulate against a running node', () => {
  it('provisions a fleet, reports, sleeps and wakes, gets queued commands, survives a partition', async () => {
    const run = runStrata([
      'simulate',
      '--devices',
      '12',
      '--profile',
      profilePath,
      '--duration',
      '14s',
      '--seed',
      '7',
      '--json',
      ...flags,
    ])
    await eventually(
      () => Promise.resolve(existsSync(join(simData, 'control.json')) ? true : undefined),
      20_000,
      'the simulator started',
    )
    assert.equal(statSync(join(simData, 'identities.json')).mode & 0o777, 0o600)
    assert.equal(statSync(join(simData, 'control.json')).mode & 0o777, 0o600)

    // A command for a device that is asleep waits in its session and is answered when it wakes.
    await eventually(
      async () => {
        const d = await control('/devices/sim-0001')
        return d.state === 'sleeping' ? d : undefined
      },
      20_000,
      'sim-0001 went to sleep',
    )
    const command = await api('POST', '/api/v1/devices/sim-0001/commands', { name: 'ping' })

    // A partition of the whole fleet, injected live; the devices come back when it ends.
    const fault = await runStrata([
      'simulate',
      'fault',
      'partition',
      '--duration',
      '2s',
      '--data',
      simData,
      '--json',
    ])
    assert.equal(fault.code, 0, fault.stderr)
    assert.equal(JSON.parse(fault.stdout).affected, 12)
    const partitionedAt = Date.now()

    const done = await run
    assert.equal(done.code, 0, done.stderr)
    const summary = JSON.parse(done.stdout)
    assert.equal(summary.devices, 12)
    assert.equal(summary.created, 12)
    assert.match(summary.brokerUrl, /^mqtts:/)
    assert.ok(summary.messagesSent > 24, `sent ${String(summary.messagesSent)}`)
    assert.equal(summary.refused, 0)
    assert.ok(summary.received >= 1)
    assert.ok(summary.commandsAnswered >= 1)
    assert.equal(existsSync(join(simData, 'control.json')), false, 'control removed at stop')

    const answered = await api('GET', `/api/v1/commands/${String(command.id)}`)
    assert.equal(answered.status, 'succeeded')

    // Every device is registered, labelled, and reported after the partition ended.
    const { items } = await api('GET', '/api/v1/devices?label=simulated=true&limit=100')
    assert.equal(items.length, 12)
    for (const d of items) assert.ok(d.presence.lastSeenAt > partitionedAt + 2_000, d.id)
    const latest = await api('GET', '/api/v1/telemetry/latest?device=sim-0012')
    assert.ok(latest.items.length > 0)
  })

  it('reuses the identities of the data folder on a rerun', async () => {
    const r = await runStrata([
      'simulate',
      '--devices',
      '12',
      '--duration',
      '1s',
      '--json',
      ...flags,
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).created, 0)
  })

  it('says clearly when no simulator runs for a fault', async () => {
    const r = await runStrata(['simulate', 'fault', 'drop', '--data', join(root, 'nothing')])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /CLI_SIMULATOR_UNREACHABLE/)
    assert.match(r.stderr, /strata simulate --devices/)
  })

  it('refuses a profile that is not valid, naming the field', async () => {
    const bad = join(root, 'bad.json')
    writeFileSync(bad, JSON.stringify({ reportEveryS: -1 }))
    const r = await runStrata(['simulate', '--devices', '1', '--profile', bad, ...flags])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /reportEveryS/)
  })
})
