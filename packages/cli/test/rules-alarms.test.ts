import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { StrataNode } from '@strata/cloud'
import { createDeviceClient, type DeviceClient } from '@strata/device'
import { eventually, runStrata, startNodeWithAdmin, type ApiCall } from './node-helpers.js'

// `strata rules …` and `strata alarms …` against a real node, with an SDK device sending
// telemetry: a rule written to a file is dry-run, created, replayed over what the device sent,
// raises an alarm that the CLI lists, acknowledges, comments and clears.
const root = mkdtempSync(join(tmpdir(), 'strata-rules-cli-'))
let node: StrataNode
let api: ApiCall
let token: string
let flags: string[]
let device: DeviceClient

const overheat = {
  name: 'overheat',
  enabled: true,
  description: 'hot for 0 s raises; clears at 28 or below',
  match: { topicKinds: ['telemetry'], metrics: ['temp'] },
  operators: [{ name: 'hot', type: 'hysteresis', metric: 'temp', above: 30, below: 28 }],
  condition: 'state.hot.active',
  transform: '{"temp": payload.temp}',
  actions: [{ type: 'alarm', name: 'overheat', severity: 'critical', message: 'too hot' }],
}

before(async () => {
  process.env['STRATA_CONFIG_DIR'] = join(root, 'config')
  ;({ node, token, api } = await startNodeWithAdmin(root))
  flags = ['--url', node.httpUrl, '--token', token, '--json']
  await api('POST', '/api/v1/devices', { id: 'boiler-1', labels: { site: 'berlin' } })
  const { token: deviceToken } = await api('POST', '/api/v1/devices/boiler-1/tokens', {})
  device = createDeviceClient({
    url: node.mqttUrl,
    deviceId: 'boiler-1',
    credentials: { token: deviceToken as string },
  })
  await device.waitOnline(10_000)
})
after(async () => {
  await device.close()
  await node.close()
  rmSync(root, { recursive: true, force: true })
})

async function json(args: string[]): Promise<any> {
  const r = await runStrata([...args, ...flags])
  assert.equal(r.code, 0, r.stderr + r.stdout)
  return JSON.parse(r.stdout)
}

/** Sends one reading, one second after the last (replays see distinct times), and waits for its PUBACK. */
let nextTs = Date.now() - 60_000
async function send(temp: number): Promise<void> {
  nextTs += 1000
  device.telemetry.send({ ts: nextTs, values: { temp } })
  await device.flush()
}

function ruleFile(name: string, rule: unknown): string {
  const path = join(root, `${name}.json`)
  writeFileSync(path, JSON.stringify(rule))
  return path
}

describe('strata rules', () => {
  it('refuses a rule whose expression does not compile, naming the field', async () => {
    const bad = ruleFile('bad', { ...overheat, name: 'bad', condition: 'payload.temp >' })
    const r = await runStrata(['rules', 'create', bad, ...flags])
    assert.notEqual(r.code, 0)
    assert.match(r.stderr + r.stdout, /condition/)
    const listed = await json(['rules', 'list'])
    assert.deepEqual(
      listed.items.map((x: any) => x.name),
      [],
    )
  })

  it('dry-runs a rule file over samples without saving it', async () => {
    const file = ruleFile('overheat', overheat)
    const report = await json([
      'rules',
      'dry-run',
      file,
      '--sample',
      '{"temp": 25}',
      '--sample',
      '{"temp": 31}',
      '--sample',
      '{"temp": 29}',
      '--sample',
      '{"temp": 27}',
    ])
    assert.deepEqual(
      report.steps.map((s: any) => s.result.matched),
      [false, true, true, false],
    )
    assert.equal(report.summary.matched, 2)
  })

  it('creates, updates with a version check, lists, shows versions, disables and enables', async () => {
    const file = ruleFile('overheat', overheat)
    const created = await json(['rules', 'create', file])
    assert.equal(created.version, 1)
    const stale = await runStrata(['rules', 'update', file, '--if-version', '7', ...flags])
    assert.notEqual(stale.code, 0)
    assert.match(stale.stderr + stale.stdout, /412|version/i)
    const updated = await json([
      'rules',
      'apply',
      ruleFile('overheat', { ...overheat, description: 'v2' }),
    ])
    assert.equal(updated.version, 2)
    const versions = await json(['rules', 'versions', 'overheat'])
    assert.deepEqual(
      versions.items.map((v: any) => v.version),
      [2, 1],
    )
    const disabled = await json(['rules', 'disable', 'overheat'])
    assert.equal(disabled.enabled, false)
    const enabled = await json(['rules', 'enable', 'overheat'])
    assert.equal(enabled.enabled, true)
    const list = await json(['rules', 'list'])
    assert.deepEqual(
      list.items.map((x: any) => [x.name, x.enabled]),
      [['overheat', true]],
    )
  })

  it('raises an alarm from live telemetry that alarms list/ack/comment/clear follow', async () => {
    await send(25)
    await send(31.5)
    const open = await eventually(
      async () => {
        const page = await json(['alarms', 'list', '--device', 'boiler-1'])
        return page.items.length > 0 ? page : undefined
      },
      10_000,
      'the rule raised the alarm',
    )
    const alarm = open.items[0]
    assert.equal(alarm.type, 'overheat')
    assert.equal(alarm.severity, 'critical')
    assert.equal(alarm.status, 'active')
    assert.equal(alarm.source.rule, 'overheat')

    const summary = await json(['alarms', 'summary'])
    assert.equal(summary.bySeverity.critical, 1)

    const acked = await json(['alarms', 'ack', alarm.id, '--comment', 'on my way'])
    assert.equal(acked.status, 'acknowledged')
    await json(['alarms', 'comment', alarm.id, 'valve replaced'])
    // the value drops below the clear threshold: the rule clears the alarm (hysteresis)
    await send(29)
    const still = await json(['alarms', 'show', alarm.id])
    assert.equal(still.status, 'acknowledged', 'between the thresholds it stays raised')
    await send(27.5)
    const cleared = await eventually(
      async () => {
        const a = await json(['alarms', 'show', alarm.id])
        return a.status === 'cleared' ? a : undefined
      },
      10_000,
      'the rule cleared the alarm',
    )
    const kinds = cleared.history.map((e: any) => e.kind)
    for (const k of ['raised', 'acknowledged', 'commented', 'cleared'])
      assert.ok(kinds.includes(k), `history has ${k}: ${kinds.join(', ')}`)
    assert.equal((await json(['alarms', 'list'])).items.length, 0, 'no open alarms left')
    assert.equal((await json(['alarms', 'list', '--status', 'cleared'])).items.length, 1)

    const stats = (await json(['rules', 'show', 'overheat'])).stats
    assert.ok(stats.matched >= 2, `matched ${String(stats.matched)}`)
    assert.equal(stats.errors, 0)
  })

  it("replays the rule over the device's recorded telemetry: what it would have done", async () => {
    const report = await json([
      'rules',
      'replay',
      'overheat',
      '--device',
      'boiler-1',
      '--from',
      '-10m',
    ])
    assert.equal(report.window.messages, 4)
    assert.deepEqual(
      report.steps.map((s: any) => s.result.matched),
      [false, true, true, false],
    )
  })

  it('raises and clears an alarm by hand', async () => {
    const raised = await json([
      'alarms',
      'raise',
      'boiler-1',
      'door-open',
      '--severity',
      'warning',
      '--message',
      'cabinet door open',
    ])
    const alarm = raised.alarm ?? raised
    assert.equal(alarm.type, 'door-open')
    const cleared = await json(['alarms', 'clear', alarm.id])
    assert.equal(cleared.status, 'cleared')
  })
})
