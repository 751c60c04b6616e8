import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'

// The broker as users run it: `strata broker --config FILE` in its own process, with
// persistence on, stopped gracefully or with SIGKILL and started again on the same folder.
const bin = fileURLToPath(new URL('../../../cli/bin/strata.js', import.meta.url))

interface RunningBroker {
  readonly child: ChildProcess
  readonly url: string
}

function startBroker(configFile: string): Promise<RunningBroker> {
  const child = spawn(process.execPath, [bin, 'broker', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const port = /listening on mqtt:\/\/.*:(\d+)/.exec(out)?.[1]
      if (port !== undefined) resolve({ child, url: `mqtt://127.0.0.1:${port}` })
    })
    child.once('exit', (code) =>
      reject(new Error(`broker exited with ${String(code)} before listening: ${err}`)),
    )
  })
}

function stop(broker: RunningBroker, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (broker.child.exitCode !== null) return resolve()
    broker.child.once('exit', () => resolve())
    broker.child.kill(signal)
  })
}

function setup(): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'strata-restart-'))
  const config = join(dir, 'broker.conf')
  writeFileSync(
    config,
    [
      'listener 0',
      'allow_anonymous true',
      'persistence true',
      // Above what the test can publish: a full queue drops by policy, which is not what is tested here.
      'max_queued_messages 1000000',
      `persistence_location ${dir}`,
      'log_dest none',
      '',
    ].join('\n'),
  )
  return { dir, config }
}

/** Connects the persistent subscriber once so its session and subscription exist. */
async function createPersistentSession(url: string, qos: 1 | 2): Promise<void> {
  const sub = await mqtt.connectAsync(url, {
    clientId: 'sleeper',
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
  })
  await sub.subscribeAsync('fleet/+/cmd', { qos })
  await sub.endAsync()
}

/** Reconnects the subscriber and collects what its session held, until `count` or a quiet second. */
async function drain(url: string, count: number): Promise<string[]> {
  const got: string[] = []
  const sub = mqtt.connect(url, {
    clientId: 'sleeper',
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
  })
  sub.on('message', (_topic, payload) => got.push(payload.toString()))
  const deadline = Date.now() + 15_000
  let last = -1
  let quietSince = Date.now()
  while (got.length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100))
    if (got.length !== last) {
      last = got.length
      quietSince = Date.now()
    } else if (got.length > 0 && Date.now() - quietSince > 2000) break
  }
  await sub.endAsync()
  return got
}

describe('a broker restart keeps sessions and queued messages', () => {
  const dirs: string[] = []
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

  for (const qos of [1, 2] as const) {
    it(`delivers QoS ${String(qos)} messages queued before a graceful restart, in order`, async () => {
      const { dir, config } = setup()
      dirs.push(dir)
      let broker = await startBroker(config)
      await createPersistentSession(broker.url, qos)
      const pub = await mqtt.connectAsync(broker.url, { clientId: 'pub', protocolVersion: 4 })
      for (let i = 0; i < 50; i++) await pub.publishAsync('fleet/d1/cmd', `m${String(i)}`, { qos })
      await pub.endAsync()
      await stop(broker, 'SIGTERM')
      broker = await startBroker(config)
      const got = await drain(broker.url, 50)
      await stop(broker, 'SIGTERM')
      assert.deepEqual(
        got,
        Array.from({ length: 50 }, (_, i) => `m${String(i)}`),
      )
    })
  }

  it('loses no acknowledged QoS 1 message when killed with SIGKILL mid-stream', async () => {
    const { dir, config } = setup()
    dirs.push(dir)
    let broker = await startBroker(config)
    await createPersistentSession(broker.url, 1)
    const pub = await mqtt.connectAsync(broker.url, {
      clientId: 'pub',
      protocolVersion: 4,
      reconnectPeriod: 0,
    })
    pub.on('error', () => undefined)
    const closed = new Promise<never>((_, reject) =>
      pub.once('close', () => reject(new Error('connection closed'))),
    )
    closed.catch(() => undefined)
    const acknowledged: string[] = []
    const killAfterMs = 300 + Math.floor(Math.random() * 700)
    const killer = setTimeout(() => broker.child.kill('SIGKILL'), killAfterMs)
    try {
      for (
        let i = 0;
        i < 100_000 && broker.child.exitCode === null && broker.child.signalCode === null;
        i++
      ) {
        const body = `k${String(i)}`
        // MQTT.js leaves the publish pending when the socket dies: race it with the close.
        await Promise.race([pub.publishAsync('fleet/d2/cmd', body, { qos: 1 }), closed])
        acknowledged.push(body)
      }
    } catch {
      // the broker died under the publisher: expected
    }
    clearTimeout(killer)
    await stop(broker, 'SIGKILL')
    pub.end(true)
    assert.ok(acknowledged.length > 0, 'nothing was acknowledged before the kill')
    broker = await startBroker(config)
    const got = await drain(broker.url, acknowledged.length)
    await stop(broker, 'SIGTERM')
    const missing = acknowledged.filter((m) => !got.includes(m))
    assert.deepEqual(
      missing,
      [],
      `${String(missing.length)} of ${String(acknowledged.length)} acknowledged messages lost`,
    )
  })
})
