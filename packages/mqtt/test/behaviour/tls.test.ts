import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import {
  createBroker,
  listenTls,
  listenWebSocket,
  MqttError,
  type BrokerHooks,
  type ConnectContext,
  type TlsSettings,
} from '../../src/index.js'
import { allowAll, connect, defer, inboxOf, runTool, testTimeoutMs, tryConnect } from './helpers.js'

const opts = { timeout: testTimeoutMs }

interface KeyPair {
  readonly key: string
  readonly cert: string
  readonly keyFile: string
  readonly certFile: string
}

interface Pki {
  readonly ca: KeyPair
  readonly server: KeyPair
  /** CN=device-1, signed by `ca`. */
  readonly client: KeyPair
  /** CN=intruder, signed by another CA. */
  readonly stranger: KeyPair
}

let dir = ''
let pki: Pki

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

function read(name: string): KeyPair {
  const keyFile = path.join(dir, `${name}.key`)
  const certFile = path.join(dir, `${name}.crt`)
  return {
    keyFile,
    certFile,
    key: fs.readFileSync(keyFile, 'utf8'),
    cert: fs.readFileSync(certFile, 'utf8'),
  }
}

const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

function makeCa(name: string): KeyPair {
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  )
  return read(name)
}

function makeLeaf(name: string, cn: string, ca: string, extensions: string): KeyPair {
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions)
  openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`)
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-set_serial',
    String(Date.now()),
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  )
  return read(name)
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-mqtt-tls-'))
  const ca = makeCa('ca')
  makeCa('other-ca')
  pki = {
    ca,
    server: makeLeaf(
      'server',
      'localhost',
      'ca',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
    ),
    client: makeLeaf(
      'client',
      'device-1',
      'ca',
      'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n',
    ),
    stranger: makeLeaf(
      'stranger',
      'intruder',
      'other-ca',
      'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n',
    ),
  }
})

after(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

/** A broker behind a TLS listener; records what authenticate saw. */
async function startTlsBroker(
  t: TestContext,
  tls: Partial<TlsSettings>,
): Promise<{ url: string; port: number; seen: ConnectContext[] }> {
  const seen: ConnectContext[] = []
  const hooks: BrokerHooks = {
    authenticate: (c) => {
      seen.push(c)
      return allowAll(c)
    },
  }
  const broker = await createBroker({ hooks }, { sysIntervalSec: 0 })
  defer(t, () => broker.close())
  const listener = await listenTls(broker, {
    port: 0,
    tls: { key: pki.server.key, cert: pki.server.cert, ...tls },
  })
  defer(t, () => listener.close())
  assert.match(listener.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/)
  return { url: listener.url, port: listener.port, seen }
}

// Every test has its own broker: the areas below run side by side to keep the suite short.
describe('TLS listeners', { concurrency: true }, () => {
  describe('TLS', { concurrency: true }, () => {
    it('serves MQTT over TLS to a client that trusts the server certificate', opts, async (t) => {
      const { url } = await startTlsBroker(t, {})
      const sub = await connect(t, url, {
        protocolVersion: 5,
        ca: pki.ca.cert,
        rejectUnauthorized: true,
      })
      await sub.subscribeAsync('tls/t', { qos: 1 })
      const pub = await connect(t, url, {
        protocolVersion: 4,
        ca: pki.ca.cert,
        rejectUnauthorized: true,
      })
      await pub.publishAsync('tls/t', 'secret', { qos: 1 })
      assert.deepEqual(
        (await inboxOf(sub).waitFor(1)).map((m) => m.payload),
        ['secret'],
      )
    })

    it('serves MQTT over wss:// with the same key material', opts, async (t) => {
      const broker = await createBroker(
        { hooks: { authenticate: allowAll } },
        { sysIntervalSec: 0 },
      )
      defer(t, () => broker.close())
      const ws = await listenWebSocket(broker, {
        port: 0,
        tls: { key: pki.server.key, cert: pki.server.cert },
      })
      defer(t, () => ws.close())
      assert.match(ws.url, /^wss:\/\/127\.0\.0\.1:\d+\/mqtt$/)
      const client = await connect(t, ws.url, { protocolVersion: 5, ca: pki.ca.cert })
      await client.subscribeAsync('wss/t', { qos: 1 })
      await client.publishAsync('wss/t', 'over wss', { qos: 1 })
      assert.deepEqual(
        (await inboxOf(client).waitFor(1)).map((m) => m.payload),
        ['over wss'],
      )
    })

    it('fails to start with a key that does not load, naming MQTT_TLS_INVALID', opts, async (t) => {
      const broker = await createBroker(
        { hooks: { authenticate: allowAll } },
        { sysIntervalSec: 0 },
      )
      defer(t, () => broker.close())
      await assert.rejects(
        listenTls(broker, { port: 0, tls: { key: 'not a key', cert: pki.server.cert } }),
        (err: unknown) => err instanceof MqttError && err.code === 'MQTT_TLS_INVALID',
      )
    })
  })

  describe('mutual TLS', { concurrency: true }, () => {
    const mutual = (): Partial<TlsSettings> => ({ ca: pki.ca.cert, requireClientCertificate: true })

    it('refuses a client without a certificate', opts, async (t) => {
      const { url, seen } = await startTlsBroker(t, mutual())
      const outcome = await tryConnect(url, { protocolVersion: 5, ca: pki.ca.cert })
      assert.equal(outcome.client, undefined)
      assert.deepEqual(seen, [], 'never reached authenticate')
    })

    it('refuses a client whose certificate another CA signed', opts, async (t) => {
      const { url, seen } = await startTlsBroker(t, mutual())
      const outcome = await tryConnect(url, {
        protocolVersion: 5,
        ca: pki.ca.cert,
        key: pki.stranger.key,
        cert: pki.stranger.cert,
      })
      assert.equal(outcome.client, undefined)
      assert.deepEqual(seen, [])
    })

    it(
      'admits a client with a certificate from the trusted CA and shows it to authenticate',
      opts,
      async (t) => {
        const { url, seen } = await startTlsBroker(t, mutual())
        const client = await connect(t, url, {
          protocolVersion: 5,
          ca: pki.ca.cert,
          key: pki.client.key,
          cert: pki.client.cert,
        })
        await client.subscribeAsync('mtls/t', { qos: 1 })
        await client.publishAsync('mtls/t', 'hello', { qos: 1 })
        await inboxOf(client).waitFor(1)
        assert.equal(seen.length, 1)
        assert.equal(seen[0]?.tls?.authorized, true)
        assert.equal(seen[0].tls.peerCertificate?.subject.CN, 'device-1')
        assert.equal(seen[0].listener, url)
      },
    )

    it(
      'lets authenticate decide when client certificates are asked for but not required',
      opts,
      async (t) => {
        const { url, seen } = await startTlsBroker(t, { ca: pki.ca.cert })
        await connect(t, url, { protocolVersion: 4, ca: pki.ca.cert })
        await connect(t, url, {
          protocolVersion: 4,
          ca: pki.ca.cert,
          key: pki.stranger.key,
          cert: pki.stranger.cert,
        })
        assert.equal(seen.length, 2)
        assert.equal(seen[0]?.tls?.authorized, false)
        assert.equal(seen[0].tls.peerCertificate, undefined)
        assert.equal(seen[1]?.tls?.authorized, false, 'another CA: not authorized')
        assert.equal(seen[1].tls.peerCertificate?.subject.CN, 'intruder')
      },
    )

    it('serves mosquitto_pub with a client certificate', opts, async (t) => {
      const { url, port, seen } = await startTlsBroker(t, mutual())
      const sub = await connect(t, url, {
        protocolVersion: 5,
        ca: pki.ca.cert,
        key: pki.client.key,
        cert: pki.client.cert,
      })
      await sub.subscribeAsync('mtls/mosq', { qos: 1 })
      await runTool(t, 'mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-V',
        'mqttv311',
        '-q',
        '1',
        '--cafile',
        pki.ca.certFile,
        '--cert',
        pki.client.certFile,
        '--key',
        pki.client.keyFile,
        '-t',
        'mtls/mosq',
        '-m',
        'from mosquitto',
      ])
      assert.deepEqual(
        (await inboxOf(sub).waitFor(1)).map((m) => m.payload),
        ['from mosquitto'],
      )
      assert.equal(seen.at(-1)?.tls?.peerCertificate?.subject.CN, 'device-1')
    })
  })
})
