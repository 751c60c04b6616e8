import assert from 'node:assert/strict'
import { execFile, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

// `strata broker` as users run it: the compiled command, a Mosquitto-style config, real clients.
const bin = fileURLToPath(new URL('../bin/strata.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'strata-broker-cli-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function strata(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    input,
    encoding: 'utf8',
    timeout: 30_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function pub(port: number, password: string): Promise<number> {
  return new Promise((resolve) => {
    execFile(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-u',
        'alice',
        '-P',
        password,
        '-t',
        't',
        '-m',
        'x',
        '-q',
        '1',
      ],
      (err) => {
        resolve(err === null ? 0 : ((err as { code?: number }).code ?? 1))
      },
    )
  })
}

describe('strata broker', () => {
  it('refuses to start with no listener, saying how to add one', () => {
    const r = strata(['broker'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /error CLI_USAGE: the broker has no listener\nhint: Give --port N/)
  })

  it('refuses to start when nobody could connect: there is no anonymous default', () => {
    const r = strata(['broker', '--port', '0'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /no client could connect/)
    assert.match(r.stderr, /strata broker passwd FILE USER/)
  })

  it('names the file and line of a bad config option', () => {
    const config = join(dir, 'bad.conf')
    writeFileSync(config, 'listener 0\nallow_anonymus true\n')
    const r = strata(['broker', '--config', config])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      new RegExp(`error MQTT_CONFIG_INVALID: ${config.replace(/[/.]/g, '\\$&')}:2`),
    )
  })

  it('names the port in use and the flag to change it', async () => {
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    // Anonymous access on, so the start gets as far as the port.
    const config = join(dir, 'anon.conf')
    writeFileSync(config, 'allow_anonymous true\n')
    const busyRun = strata(['broker', '--config', config, '--port', String(port)])
    busy.close()
    assert.equal(busyRun.code, 1)
    assert.match(
      busyRun.stderr,
      new RegExp(`MQTT_LISTEN_FAILED: MQTT port ${String(port)} on 127.0.0.1 is already in use`),
    )
  })

  it('serves users from a password file made with strata broker passwd, and stops on SIGTERM', async () => {
    const passwd = join(dir, 'passwd')
    const made = strata(['broker', 'passwd', passwd, 'alice'], 's3cret\n')
    assert.equal(made.code, 0, made.stderr)
    assert.equal(statSync(passwd).mode & 0o777, 0o600)
    const config = join(dir, 'users.conf')
    writeFileSync(config, `listener 0\npassword_file ${passwd}\n`)
    const child = spawn(process.execPath, [bin, 'broker', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /listening on mqtt:\/\/.*:(\d+)/.exec(out)
        if (m?.[1] !== undefined) resolve(Number(m[1]))
      })
      child.once('exit', (code) => reject(new Error(`exited ${String(code)}`)))
    })
    assert.equal(await pub(port, 's3cret'), 0)
    assert.notEqual(await pub(port, 'wrong'), 0)
    const exit = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    )
    child.kill('SIGTERM')
    assert.equal(await exit, 0)
  })
})
