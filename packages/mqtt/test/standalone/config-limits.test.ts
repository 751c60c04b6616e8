import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'

// `message_size_limit` and `max_connections` as users set them: `strata broker --config FILE`, in its own process.
const bin = fileURLToPath(new URL('../../../cli/bin/strata.js', import.meta.url))

/** Starts `strata broker` on a config (stopped after the test); resolves with its listeners' URLs. */
async function startBroker(t: TestContext, lines: string[], listeners = 1): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-size-limit-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const config = join(dir, 'broker.conf')
  writeFileSync(config, [...lines, ''].join('\n'))
  const child = spawn(process.execPath, [bin, 'broker', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(async () => {
    if (child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  })
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const ports = [...out.matchAll(/listening on mqtt:\/\/.*:(\d+)/g)].map((m) => m[1])
      if (ports.length === listeners) resolve(ports.map((p) => `mqtt://127.0.0.1:${String(p)}`))
    })
    child.once('exit', (code) =>
      reject(new Error(`broker exited with ${String(code)} before listening: ${err}`)),
    )
  })
}

it('applies message_size_limit: larger payloads are acknowledged and dropped, the connection kept', async (t) => {
  const [url = ''] = await startBroker(t, [
    'listener 0',
    'allow_anonymous true',
    'message_size_limit 16',
    'log_dest none',
  ])
  const sub = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.after(() => sub.endAsync(true))
  const got: string[] = []
  sub.on('message', (topic) => got.push(topic))
  await sub.subscribeAsync('size/#', { qos: 1 })

  const v5 = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 })
  t.after(() => v5.endAsync(true))
  // MQTT.js rejects a publish whose PUBACK carries an error reason code.
  await assert.rejects(v5.publishAsync('size/v5-big', Buffer.alloc(17), { qos: 1 }), {
    code: 0x97,
  })
  await v5.publishAsync('size/v5-ok', Buffer.alloc(16), { qos: 1 })

  const v4 = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
  t.after(() => v4.endAsync(true))
  await v4.publishAsync('size/v4-big', Buffer.alloc(17), { qos: 1 })
  await v4.publishAsync('size/v4-ok', Buffer.alloc(16), { qos: 1 })

  const deadline = Date.now() + 3_000
  while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  await new Promise((r) => setTimeout(r, 200))
  assert.deepEqual(got, ['size/v5-ok', 'size/v4-ok'])
  assert.ok(v5.connected && v4.connected, 'both publishers are still connected')
})

/** Ports free a moment ago (two listeners of one file cannot both be `listener 0`). */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  for (const server of servers) {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  }
  const ports = servers.map((server) => {
    const address = server.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  })
  for (const server of servers) server.close()
  return ports
}

it('applies max_connections to each listener on its own', async (t) => {
  const [first = 0, second = 0] = await freePorts(2)
  const [limited = '', open = ''] = await startBroker(
    t,
    [
      'allow_anonymous true',
      'log_dest none',
      `listener ${String(first)} 127.0.0.1`,
      'max_connections 1',
      `listener ${String(second)} 127.0.0.1`,
      'max_connections 2',
    ],
    2,
  )
  const options = { protocolVersion: 5, reconnectPeriod: 0 } as const
  const holder = await mqtt.connectAsync(limited, options)
  t.after(() => holder.endAsync(true))
  const refused = mqtt.connect(limited, options)
  const error = await new Promise<Error & { code?: number }>((resolve) =>
    refused.once('error', resolve),
  )
  refused.end(true)
  assert.equal(error.code, 0x89, 'server busy')
  // The other listener's two places are its own.
  for (let i = 0; i < 2; i++) {
    const c = await mqtt.connectAsync(open, options)
    t.after(() => c.endAsync(true))
  }
})
