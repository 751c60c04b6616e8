import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { StrataNode } from '@strata/cloud'
import { createDeviceClient, type DeviceClient } from '@strata/device'
import { eventually, runStrata, startNodeWithAdmin, type ApiCall } from './node-helpers.js'

// `strata twin …` and `strata commands …` against a real node, with SDK devices answering.
const root = mkdtempSync(join(tmpdir(), 'strata-twin-cli-'))
let node: StrataNode
let api: ApiCall
let token: string
let flags: string[]
const devices: DeviceClient[] = []

before(async () => {
  process.env['STRATA_CONFIG_DIR'] = join(root, 'config')
  ;({ node, token, api } = await startNodeWithAdmin(root))
  flags = ['--url', node.httpUrl, '--token', token, '--json']
  for (const id of ['pump-1', 'pump-2']) {
    await api('POST', '/api/v1/devices', { id, labels: { kind: 'pump' } })
    const { token: deviceToken } = await api('POST', `/api/v1/devices/${id}/tokens`, {})
    const device = createDeviceClient({
      url: node.mqttUrl,
      deviceId: id,
      credentials: { token: deviceToken as string },
    })
    device.commands.on('reboot', ({ params }) => ({ rebootedInS: params['delayS'] ?? 0 }))
    device.twin.onDesired(({ desired }) => {
      void device.twin.report({ config: desired['config'] ?? null })
    })
    await device.waitOnline(10_000)
    devices.push(device)
  }
  await api('POST', '/api/v1/groups', { id: 'pumps', query: 'kind=pump' })
})
after(async () => {
  for (const d of devices) await d.close()
  await node.close()
  rmSync(root, { recursive: true, force: true })
})

async function json(args: string[]): Promise<any> {
  const r = await runStrata([...args, ...flags])
  assert.equal(r.code, 0, r.stderr + r.stdout)
  return JSON.parse(r.stdout)
}

describe('strata twin', () => {
  it('desires a change that the device applies and reports; show, history and query see it', async () => {
    const changed = await json(['twin', 'desire', 'pump-1', '--set', 'config.interval=30'])
    assert.equal(changed.desiredVersion, 1)
    assert.deepEqual(changed.desired, { config: { interval: 30 } })

    const twin = await eventually(
      async () => {
        const t = await json(['twin', 'show', 'pump-1'])
        return t.reported.config?.interval === 30 ? t : undefined
      },
      10_000,
      'the device reported the new interval',
    )
    assert.equal(twin.deliveredDesiredVersion, 1)

    const history = await json(['twin', 'history', 'pump-1'])
    assert.deepEqual(history.items.map((c: any) => [c.side, c.source.split(':')[0]]).sort(), [
      ['desired', 'user'],
      ['reported', 'device'],
    ])
    const found = await json(['twin', 'query', '--where', 'reported.config.interval=30'])
    assert.deepEqual(
      found.items.map((t: any) => t.deviceId),
      ['pump-1'],
    )
  })

  it('refuses a change made against a version that moved on (--if-match), with the code', async () => {
    const r = await runStrata([
      'twin',
      'desire',
      'pump-2',
      '{"mode": "eco"}',
      '--if-match',
      '7',
      ...flags,
    ])
    assert.notEqual(r.code, 0)
    assert.match(r.stdout + r.stderr, /CLOUD_PRECONDITION_FAILED/)
  })

  it('says what is wrong with a patch that is not JSON', async () => {
    const r = await runStrata(['twin', 'desire', 'pump-2', '{mode: eco}', ...flags])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /not JSON/)
  })
})

describe('strata commands', () => {
  it('sends a command, waits for its outcome, lists and shows it', async () => {
    const c = await json([
      'commands',
      'send',
      'pump-1',
      'reboot',
      '--param',
      'delayS=5',
      '--wait',
      '10s',
    ])
    assert.equal(c.status, 'succeeded')
    assert.deepEqual(c.result, { rebootedInS: 5 })
    const list = await json(['commands', 'list', 'pump-1'])
    assert.equal(list.items[0].id, c.id)
    assert.equal((await json(['commands', 'show', c.id])).status, 'succeeded')
  })

  it('sends a command to a group as a job and follows it to the end', async () => {
    const job = await json(['commands', 'bulk', 'pumps', 'reboot', '--wait', '15s'])
    assert.equal(job.total, 2)
    assert.equal(job.succeeded, 2)
    assert.equal(job.done, true)
  })
})
