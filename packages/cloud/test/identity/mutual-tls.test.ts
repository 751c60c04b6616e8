import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import tls from 'node:tls'
import {
  deviceIdentityFromCertificate,
  openCertificateAuthority,
  type CertificateAuthority,
} from '../../src/identity/index.js'
import { makeCsr, opensslCsr, tempDir } from './helpers.js'

type Outcome =
  | { ok: true; identity: unknown }
  | { ok: false; reached: 'nothing' }
  | { ok: false; authorizationError: string }

/**
 * Starts a TLS server as the node's MQTTS/HTTPS listeners will (server cert from the CA, device
 * certificates required and verified against the trust anchors), connects one device and
 * reports what the server saw. With `rejectUnauthorized: true` node destroys a refused socket
 * without an event, so a second run with `false` tells why OpenSSL refused it.
 */
async function handshake(
  t: TestContext,
  ca: CertificateAuthority,
  device: { keyPem: string; certificatePem: string },
  options: { crl?: string[]; rejectUnauthorized?: boolean } = {},
): Promise<Outcome> {
  const server = await ca.issueServerCertificate({ hostnames: ['localhost', '127.0.0.1', '::1'] })
  const listener = tls.createServer(
    {
      key: server.keyPem,
      cert: server.certificatePem + server.chainPem[0],
      ca: ca.trustAnchorsPem(),
      requestCert: true,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      ...(options.crl === undefined ? {} : { crl: options.crl }),
    },
    (socket) => {
      const reply: Outcome = socket.authorized
        ? { ok: true, identity: deviceIdentityFromCertificate(socket.getPeerCertificate()) }
        : { ok: false, authorizationError: String(socket.authorizationError) }
      socket.end(JSON.stringify(reply))
    },
  )
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => listener.close(() => resolve())))
  const { port } = listener.address() as AddressInfo

  const reply = await new Promise<string>((resolve) => {
    const socket = tls.connect({
      port,
      host: '127.0.0.1',
      // The device trusts only the root; the server sends its intermediate.
      ca: server.chainPem[1],
      key: device.keyPem,
      cert: device.certificatePem,
    })
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => (data += d))
    socket.on('end', () => resolve(data))
    // With TLS 1.3 the client finishes first and sees the refusal as a hang-up.
    socket.on('error', () => resolve(data))
  })
  return reply === '' ? { ok: false, reached: 'nothing' } : (JSON.parse(reply) as Outcome)
}

/** Asserts the listener refuses the device, for the reason OpenSSL gives as `code`. */
async function assertRefused(
  t: TestContext,
  ca: CertificateAuthority,
  device: { keyPem: string; certificatePem: string },
  code: string,
  crl?: string[],
): Promise<void> {
  const options = crl === undefined ? {} : { crl }
  assert.deepEqual(await handshake(t, ca, device, options), { ok: false, reached: 'nothing' })
  assert.deepEqual(await handshake(t, ca, device, { ...options, rejectUnauthorized: false }), {
    ok: false,
    authorizationError: code,
  })
}

async function device(ca: CertificateAuthority, deviceId: string) {
  const { csrPem, keyPem } = await makeCsr('p256')
  const issued = await ca.issueDeviceCertificate({ csrPem, tenantId: 'acme', deviceId })
  return { keyPem, certificatePem: issued.certificatePem, serialNumber: issued.serialNumber }
}

describe('mutual TLS with certificates from the CA', () => {
  it('accepts a device certificate and reads its identity from the peer', async (t) => {
    const ca = await openCertificateAuthority({ dir: join(await tempDir(t), 'ca') })
    const dev = await device(ca, 'sensor-1')
    const outcome = await handshake(t, ca, dev)
    assert.deepEqual(outcome, {
      ok: true,
      identity: await ca.verifyDeviceCertificate(dev.certificatePem),
    })
  })

  it('accepts a certificate for a key made by openssl', async (t) => {
    const dir = await tempDir(t)
    const ca = await openCertificateAuthority({ dir: join(dir, 'ca') })
    const { csrPem, keyPem } = await opensslCsr(dir)
    const issued = await ca.issueDeviceCertificate({
      csrPem,
      tenantId: 'acme',
      deviceId: 'from-openssl',
    })
    const outcome = await handshake(t, ca, { keyPem, certificatePem: issued.certificatePem })
    assert.equal(outcome.ok, true)
    assert.equal((outcome as { identity: { deviceId: string } }).identity.deviceId, 'from-openssl')
  })

  it('refuses a certificate from another CA', async (t) => {
    const dir = await tempDir(t)
    const ca = await openCertificateAuthority({ dir: join(dir, 'ca') })
    const other = await openCertificateAuthority({ dir: join(dir, 'other') })
    const stranger = await device(other, 'sensor-1')
    // Even with its whole chain sent along, the other root is not a trust anchor.
    const chain = {
      keyPem: stranger.keyPem,
      certificatePem: stranger.certificatePem + other.caChainPem(),
    }
    await assertRefused(t, ca, chain, 'SELF_SIGNED_CERT_IN_CHAIN')
    await assertRefused(t, ca, stranger, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  it('refuses an expired certificate', async (t) => {
    const dir = join(await tempDir(t), 'ca')
    const ca = await openCertificateAuthority({ dir })
    const past = await openCertificateAuthority({ dir, clock: () => Date.now() - 400 * 86_400_000 })
    const expired = await device(past, 'sensor-1')
    await assertRefused(t, ca, expired, 'CERT_HAS_EXPIRED')
  })

  it('refuses a certificate revoked by the CRL, and still accepts the others', async (t) => {
    const ca = await openCertificateAuthority({ dir: join(await tempDir(t), 'ca') })
    const revoked = await device(ca, 'stolen')
    const kept = await device(ca, 'kept')
    const crl = await ca.createCrl(
      [
        {
          serialNumber: revoked.serialNumber,
          revokedAt: Date.now() - 1000,
          reason: 'keyCompromise',
        },
      ],
      { nextUpdateMs: 3_600_000 },
    )
    await assertRefused(t, ca, revoked, 'CERT_REVOKED', crl.tlsCrlPems)
    const accepted = await handshake(t, ca, kept, { crl: crl.tlsCrlPems })
    assert.equal(accepted.ok, true)
    // The intermediate's CRL alone is not enough: node checks CRLs for the whole chain.
    assert.deepEqual(
      await handshake(t, ca, kept, { crl: [crl.crlPem], rejectUnauthorized: false }),
      { ok: false, authorizationError: 'UNABLE_TO_GET_CRL' },
    )
  })

  it('keeps accepting devices after the root key goes offline and the intermediate is renewed', async (t) => {
    const dir = join(await tempDir(t), 'ca')
    const ca = await openCertificateAuthority({ dir })
    const old = await device(ca, 'old')
    await ca.renewIntermediate()
    const fresh = await device(ca, 'fresh')
    const crl = await ca.createCrl([], { nextUpdateMs: 3_600_000 })
    assert.equal((await handshake(t, ca, old, { crl: crl.tlsCrlPems })).ok, true)
    assert.equal((await handshake(t, ca, fresh, { crl: crl.tlsCrlPems })).ok, true)
    const revoked = await ca.createCrl(
      [{ serialNumber: old.serialNumber, revokedAt: Date.now() }],
      {
        nextUpdateMs: 3_600_000,
      },
    )
    await assertRefused(t, ca, old, 'CERT_REVOKED', revoked.tlsCrlPems)
  })
})
