import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

// `strata up` as users run it: the compiled command, a data folder, signals.
const bin = fileURLToPath(new URL('../bin/strata.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'strata-up-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Started {
  readonly child: ChildProcess
  readonly info: {
    http: string
    mqtt: string
    setupToken: string | null
    setupTokenPath: string | null
  }
}

function up(data: string, extra: string[] = []): Promise<Started> {
  const child = spawn(
    process.execPath,
    [
      bin,
      'up',
      '--data',
      data,
      '--mqtt-port',
      '0',
      '--mqtts-port',
      '0',
      '--http-port',
      '0',
      '--log-level',
      'warn',
      '--json',
      ...extra,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n')[0]
      if (out.includes('\n') && line !== undefined) resolve({ child, info: JSON.parse(line) })
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.once('exit', (code) => reject(new Error(`exited ${String(code)}: ${out} ${err}`)))
  })
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill(signal)
  return exit
}

describe('strata up', () => {
  it('starts with a setup token, refuses a second node on the same folder, stops on SIGTERM and SIGINT', async () => {
    const data = join(dir, 'node-1')
    const first = await up(data)
    assert.match(first.info.setupToken ?? '', /^sst_/)
    assert.equal(
      readFileSync(first.info.setupTokenPath ?? '', 'utf8').trim(),
      first.info.setupToken,
    )
    const health = (await (await fetch(`${first.info.http}/api/v1/health`)).json()) as {
      setupPending: boolean
    }
    assert.equal(health.setupPending, true)

    const second = spawnSync(
      process.execPath,
      [bin, 'up', '--data', data, '--mqtt-port', '0', '--mqtts-port', '0', '--http-port', '0'],
      { encoding: 'utf8', timeout: 30_000 },
    )
    assert.equal(second.status, 1)
    assert.match(second.stderr, /error CLOUD_DATA_LOCKED: .*in use by another Strata node/)
    assert.match(second.stderr, /hint: /)

    assert.equal(await stop(first.child, 'SIGTERM'), 0)
    // A restart before setup voids the old token and prints a new one.
    const again = await up(data, ['--keep-cleared-alarms', '90'])
    assert.notEqual(again.info.setupToken, first.info.setupToken)
    assert.equal(await stop(again.child, 'SIGINT'), 0)
  })

  it('names the port and the flag when a port is taken', async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const port = (holder.address() as AddressInfo).port
    try {
      const r = spawnSync(
        process.execPath,
        [
          bin,
          'up',
          '--data',
          join(dir, 'node-2'),
          '--mqtt-port',
          String(port),
          '--mqtts-port',
          '0',
          '--http-port',
          '0',
        ],
        { encoding: 'utf8', timeout: 30_000 },
      )
      assert.equal(r.status, 1)
      assert.match(r.stderr, new RegExp(`MQTT port ${String(port)} on 127.0.0.1 is already in use`))
      assert.match(r.stderr, /--mqtt-port/)
    } finally {
      holder.close()
    }
  })

  it('refuses a retention for cleared alarms that is not whole days or forever', () => {
    for (const bad of ['0', '1.5', 'a year']) {
      const r = spawnSync(
        process.execPath,
        [bin, 'up', '--data', join(dir, 'node-3'), '--keep-cleared-alarms', bad],
        { encoding: 'utf8', timeout: 30_000 },
      )
      assert.equal(r.status, 2, r.stderr)
      assert.match(
        r.stderr,
        /--keep-cleared-alarms.*expected a number of days from 1 to 36500, or forever/,
      )
    }
  })
})
