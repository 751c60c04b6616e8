/**
 * The link's fault hooks (drop, partition, delayed writes), its in-flight window, and mutual TLS
 * with a per-device certificate, against our broker in-process.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { createBroker, listenTcp, listenTls, type ConnectContext } from '@strata/mqtt'
import { eventually, makeLink, sleep } from './link-helpers.js'

const opts = { timeout: 15_000 }

async function startBroker(t: TestContext): Promise<{ port: number; arrivals: number[] }> {
  const arrivals: number[] = []
  const broker = await createBroker(
    {
      hooks: {
        authenticate: (c) => ({ ok: true, identity: { id: c.clientId } }),
        onPublish: () => {
          arrivals.push(Date.now())
          return undefined
        },
      },
    },
    { sysIntervalSec: 0 },
  )
  const listener = await listenTcp(broker, { port: 0 })
  t.after(async () => {
    await listener.close()
    await broker.close()
  })
  return { port: listener.port, arrivals }
}

describe('link fault hooks', () => {
  it('drop() cuts the connection without DISCONNECT and can reconnect', opts, async (t) => {
    const { port } = await startBroker(t)
    const { link, rec } = makeLink(t, port)
    assert.equal(link.publish('t', Buffer.from('x'), 1), -1, 'nothing is sent before CONNACK')
    link.connect()
    await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
    assert.equal(link.drop(), true)
    await eventually(() => rec.downs.length === 1, 3_000, 'the drop')
    assert.equal(rec.downs[0]!.cause, 'dropped')
    assert.equal(link.drop(), false, 'nothing left to drop')
    assert.equal(link.connect(), true)
    await eventually(() => rec.ups.length === 2, 3_000, 'the reconnect')
  })

  it('partition() drops the link and refuses to connect until it ends', opts, async (t) => {
    const { port } = await startBroker(t)
    const { link, rec, scheduler } = makeLink(t, port)
    link.connect()
    await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
    link.partition(scheduler.now() + 400)
    await eventually(() => rec.downs.length === 1, 3_000, 'the partition')
    assert.equal(link.connect(), false, 'partitioned')
    await sleep(450)
    assert.equal(link.connect(), true, 'the partition is over')
    await eventually(() => rec.ups.length === 2, 3_000, 'the reconnect')
  })

  it('delayWrites() holds every write back, in order, until the delay ends', opts, async (t) => {
    const { port, arrivals } = await startBroker(t)
    const { link, rec, scheduler } = makeLink(t, port)
    link.connect()
    await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
    link.delayWrites(300, scheduler.now() + 1_000)
    const sentAt = Date.now()
    link.publish('t', Buffer.from('1'), 1)
    link.publish('t', Buffer.from('2'), 1)
    await eventually(() => rec.pubacks.length === 2, 3_000, 'two PUBACK')
    assert.ok(arrivals[0]! - sentAt >= 280, `arrived after ${String(arrivals[0]! - sentAt)} ms`)
    assert.deepEqual(
      rec.pubacks.map((p) => p.id),
      [1, 2],
    )
    await sleep(1_000)
    const before = arrivals.length
    const fastFrom = Date.now()
    link.publish('t', Buffer.from('3'), 1)
    await eventually(() => arrivals.length === before + 1, 3_000, 'the undelayed message')
    assert.ok(arrivals[before]! - fastFrom < 250, 'the delay is over')
  })

  it('refuses to publish beyond its in-flight window', opts, async (t) => {
    const { port } = await startBroker(t)
    const { link, rec } = makeLink(t, port, { maxInflight: 2 })
    link.connect()
    await eventually(() => rec.ups.length === 1, 3_000, 'CONNACK')
    assert.ok(link.publish('t', Buffer.from('1'), 1) > 0)
    assert.ok(link.publish('t', Buffer.from('2'), 1) > 0)
    assert.equal(link.canPublish, false)
    assert.equal(link.publish('t', Buffer.from('3'), 1), -1)
    await eventually(() => rec.pubacks.length === 2, 3_000, 'PUBACKs')
    assert.equal(link.canPublish, true)
    assert.equal(link.clearInflight(), 0)
  })
})

describe('link over mutual TLS', () => {
  it('connects with a client certificate the broker checks', opts, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-link-tls-'))
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
    const pki = makePki(dir)
    const seen: ConnectContext[] = []
    const broker = await createBroker(
      {
        hooks: {
          authenticate: (c) => {
            seen.push(c)
            const cn = c.tls?.peerCertificate?.subject.CN
            return c.tls?.authorized === true && cn === c.clientId
              ? { ok: true, identity: { id: c.clientId } }
              : { ok: false, reasonCode: 0x87 }
          },
        },
      },
      { sysIntervalSec: 0 },
    )
    const listener = await listenTls(broker, {
      port: 0,
      tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requireClientCertificate: true },
    })
    t.after(async () => {
      await listener.close()
      await broker.close()
    })
    const { link, rec } = makeLink(t, listener.port, {
      tls: true,
      ca: pki.ca,
      clientId: 'device-1',
      auth: { kind: 'certificate', certificatePem: pki.clientCert, privateKeyPem: pki.clientKey },
    })
    link.connect()
    await eventually(() => rec.ups.length === 1 || rec.downs.length === 1, 5_000, 'an outcome')
    assert.deepEqual(rec.downs, [])
    assert.equal(seen[0]?.tls?.authorized, true)
    link.publish('t', Buffer.from('over tls'), 1)
    await eventually(() => rec.pubacks.length === 1, 3_000, 'PUBACK')
  })
})

function makePki(dir: string) {
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  const leaf = (name: string, cn: string, ext: string) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext)
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`)
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(Date.now()),
      '-days',
      '2',
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    )
  }
  leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  leaf('client', 'device-1', 'extendedKeyUsage=clientAuth\n')
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8')
  return {
    ca: read('ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientKey: read('client.key'),
    clientCert: read('client.crt'),
  }
}
