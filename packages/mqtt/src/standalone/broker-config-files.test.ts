import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadBrokerConfig, mosquittoFileOrder, parseBrokerConfig } from './broker-config.js'
import { ConfigError } from './config-error.js'

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-broker-config-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

describe('parseBrokerConfig: include_dir and files', () => {
  it('reads include_dir *.conf files in Mosquitto order, each starting outside any listener', async (t) => {
    const dir = await tempDir(t)
    await mkdir(join(dir, 'conf.d'))
    const names = ['b.conf', 'A.conf', '01.conf', 'a.conf', 'B.conf', '00.conf']
    for (const [i, name] of names.entries()) {
      await writeFile(join(dir, 'conf.d', name), `listener ${String(2000 + i)}\n`)
    }
    await writeFile(join(dir, 'conf.d', 'notes.txt'), 'not a config\n')
    const config = parseBrokerConfig(
      'listener 1883\ninclude_dir conf.d\nmax_qos 1\n',
      join(dir, 'b.conf'),
    )
    const order = config.listeners.map((l) => l.port - 2000)
    // mosquitto.conf(5): 00.conf, 01.conf, A.conf, a.conf, B.conf, b.conf.
    assert.deepEqual(order.slice(1), [5, 2, 1, 3, 4, 0])
    // The main file's listener block goes on after the include.
    assert.equal(config.listeners[0]?.maxQos, 1)
  })

  it('names the included file and line in errors', async (t) => {
    const dir = await tempDir(t)
    await mkdir(join(dir, 'conf.d'))
    await writeFile(join(dir, 'conf.d', 'x.conf'), '\n\nkeyfile k.pem\n')
    assert.throws(
      () => parseBrokerConfig('include_dir conf.d', join(dir, 'main.conf')),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.startsWith(`${join(dir, 'conf.d', 'x.conf')}:3: keyfile`),
    )
  })

  it('refuses include_dir in an included file, a directory holding the main file, or a missing one', async (t) => {
    const dir = await tempDir(t)
    await mkdir(join(dir, 'conf.d'))
    await writeFile(join(dir, 'conf.d', 'nested.conf'), 'include_dir .\n')
    assert.throws(
      () => parseBrokerConfig('include_dir conf.d', join(dir, 'main.conf')),
      /nested\.conf:1: include_dir is only allowed in the main configuration file/,
    )
    await writeFile(join(dir, 'main.conf'), 'include_dir .\n')
    assert.throws(
      () => parseBrokerConfig('include_dir .', join(dir, 'main.conf')),
      /holds the main configuration file/,
    )
    assert.throws(
      () => parseBrokerConfig('include_dir nowhere', join(dir, 'main.conf')),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === 'MQTT_FILE_UNREADABLE' &&
        /main\.conf:1: cannot read include_dir/.test(err.message),
    )
  })

  it("loads Debian's stock mosquitto.conf with a conf.d listener", async () => {
    const fixture = fileURLToPath(
      new URL('../../test/standalone/fixtures/debian/mosquitto.conf', import.meta.url),
    )
    const config = await loadBrokerConfig(fixture)
    const confD = join(fixture, '..', 'conf.d')
    assert.deepEqual(
      config.ignored.map((i) => i.option),
      ['pid_file'],
    )
    assert.deepEqual(config.persistence, { enabled: true, location: '/var/lib/mosquitto' })
    assert.deepEqual(config.logDestinations, [
      { kind: 'file', path: '/var/log/mosquitto/mosquitto.log' },
    ])
    assert.equal(config.passwordFile, join(confD, 'passwd'))
    assert.equal(config.allowAnonymous, false)
    assert.deepEqual(
      config.listeners.map((l) => [l.host, l.port, l.tls?.useIdentityAsUsername ?? false]),
      [
        ['127.0.0.1', 1883, false],
        [undefined, 8883, true],
      ],
    )
  })

  it('reports a config file it cannot read', async () => {
    await assert.rejects(loadBrokerConfig('/nonexistent/strata.conf'), (err: unknown) => {
      return err instanceof ConfigError && err.code === 'MQTT_FILE_UNREADABLE'
    })
  })
})

describe('mosquittoFileOrder', () => {
  it('sorts by letter, upper case before lower case of the same letter', () => {
    assert.deepEqual(
      ['b.conf', 'A.conf', '01.conf', 'a.conf', 'B.conf', '00.conf'].sort(mosquittoFileOrder),
      ['00.conf', '01.conf', 'A.conf', 'a.conf', 'B.conf', 'b.conf'],
    )
    // Letter by letter: at the first letter 'A' < 'a', whatever follows.
    assert.deepEqual(['ab.conf', 'a.conf', 'Ab.conf'].sort(mosquittoFileOrder), [
      'Ab.conf',
      'a.conf',
      'ab.conf',
    ])
  })
})
