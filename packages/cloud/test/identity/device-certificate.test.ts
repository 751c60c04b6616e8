import assert from 'node:assert/strict'
import { X509Certificate as NodeX509 } from 'node:crypto'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { PeerCertificate } from 'node:tls'
import {
  deviceIdentityFromCertificate,
  IdentityError,
  openCertificateAuthority,
} from '../../src/identity/index.js'
import { flipByte, makeCsr, opensslCsr, opensslText, tempDir } from './helpers.js'

function code(c: string) {
  return (err: unknown) => err instanceof IdentityError && err.code === c
}

describe('device certificates', () => {
  it('issues a clientAuth certificate naming tenant and device', async (t) => {
    const dir = await tempDir(t)
    const now = Date.UTC(2026, 0, 15, 12, 0, 0)
    const ca = await openCertificateAuthority({ dir: join(dir, 'ca'), clock: () => now })
    const { csrPem } = await makeCsr('p256')
    const issued = await ca.issueDeviceCertificate({ csrPem, tenantId: 'acme', deviceId: 'pump:7' })

    const cert = new NodeX509(issued.certificatePem)
    assert.equal(cert.subject, 'CN=pump:7')
    assert.equal(cert.subjectAltName, 'URI:urn:strata:device:acme:pump:7')
    assert.equal(cert.ca, false)
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2'])
    assert.equal(issued.serialNumber, cert.serialNumber.toLowerCase())
    assert.match(issued.serialNumber, /^[4-7][0-9a-f]{31}$/)
    assert.equal(issued.fingerprintSha256, cert.fingerprint256.replaceAll(':', '').toLowerCase())
    assert.equal(issued.notBefore, now - 5 * 60_000)
    assert.equal(issued.notAfter, now + 365 * 86_400_000)
    assert.equal(issued.keyDescription, 'ec P-256')

    const [intermediatePem, rootPem] = issued.chainPem
    const intermediate = new NodeX509(intermediatePem)
    const root = new NodeX509(rootPem)
    assert.ok(cert.verify(intermediate.publicKey))
    assert.ok(intermediate.verify(root.publicKey))
    assert.equal(cert.issuer, intermediate.subject)

    const text = opensslText(issued.certificatePem)
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/)
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/)
    assert.match(text, /TLS Web Client Authentication/)
    assert.doesNotMatch(text, /Server Authentication/)

    assert.deepEqual(deviceIdentityFromCertificate(issued.certificatePem), {
      tenantId: 'acme',
      deviceId: 'pump:7',
      serialNumber: issued.serialNumber,
      notAfter: issued.notAfter,
      fingerprintSha256: issued.fingerprintSha256,
    })
    assert.deepEqual(
      await ca.verifyDeviceCertificate(cert.raw),
      deviceIdentityFromCertificate(cert.raw),
    )
  })

  it('ignores the subject and extensions the CSR asks for', async (t) => {
    const dir = await tempDir(t)
    const ca = await openCertificateAuthority({ dir: join(dir, 'ca') })
    const { csrPem } = await makeCsr('p256', 'CN=admin, O=Strata, OU=root')
    const issued = await ca.issueDeviceCertificate({ csrPem, tenantId: 't1', deviceId: 'd1' })
    const cert = new NodeX509(issued.certificatePem)
    assert.equal(cert.subject, 'CN=d1')
    assert.equal(cert.subjectAltName, 'URI:urn:strata:device:t1:d1')

    // openssl adds the SAN it was asked for to the CSR; the certificate does not carry it.
    const fromOpenssl = await opensslCsr(dir)
    const issued2 = await ca.issueDeviceCertificate({
      csrPem: fromOpenssl.csrPem,
      tenantId: 't1',
      deviceId: 'd2',
    })
    const cert2 = new NodeX509(issued2.certificatePem)
    assert.equal(cert2.subject, 'CN=d2')
    assert.equal(cert2.subjectAltName, 'URI:urn:strata:device:t1:d2')
    assert.ok(
      cert2.checkPrivateKey((await import('node:crypto')).createPrivateKey(fromOpenssl.keyPem)),
    )
  })

  it('accepts P-384, Ed25519 and RSA 2048 keys', async (t) => {
    const ca = await openCertificateAuthority({ dir: join(await tempDir(t), 'ca') })
    for (const [kind, description] of [
      ['p384', 'ec P-384'],
      ['ed25519', 'ed25519'],
      ['rsa2048', 'rsa 2048'],
    ] as const) {
      const { csrPem } = await makeCsr(kind)
      const issued = await ca.issueDeviceCertificate({ csrPem, tenantId: 't', deviceId: kind })
      assert.equal(issued.keyDescription, description)
      assert.equal((await ca.verifyDeviceCertificate(issued.certificatePem)).deviceId, kind)
    }
  })

  it('refuses a CSR whose signature was tampered with', async (t) => {
    const ca = await openCertificateAuthority({ dir: join(await tempDir(t), 'ca') })
    const { csrPem } = await makeCsr('p256', 'CN=aaaa')
    // The last byte of the subject CN sits right before the SPKI; flip one in the CN text.
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    const at = der.indexOf(Buffer.from('aaaa'))
    const tampered = flipByte(csrPem, 'CERTIFICATE REQUEST', at)
    await assert.rejects(
      ca.issueDeviceCertificate({ csrPem: tampered, tenantId: 't', deviceId: 'd' }),
      (err: unknown) =>
        code('CLOUD_CSR_INVALID')(err) && /self-signature/.test((err as Error).message),
    )
    // A flipped signature byte is refused the same way.
    await assert.rejects(
      ca.issueDeviceCertificate({
        csrPem: flipByte(csrPem, 'CERTIFICATE REQUEST', -3),
        tenantId: 't',
        deviceId: 'd',
      }),
      code('CLOUD_CSR_INVALID'),
    )
  })

  it('refuses weak and unsupported keys', async (t) => {
    const ca = await openCertificateAuthority({ dir: join(await tempDir(t), 'ca') })
    await assert.rejects(
      ca.issueDeviceCertificate({
        csrPem: (await makeCsr('rsa1024')).csrPem,
        tenantId: 't',
        deviceId: 'd',
      }),
      (err: unknown) =>
        code('CLOUD_KEY_UNSUPPORTED')(err) && /1024-bit RSA/.test((err as Error).message),
    )
    await assert.rejects(
      ca.issueDeviceCertificate({
        csrPem: (await makeCsr('p521')).csrPem,
        tenantId: 't',
        deviceId: 'd',
      }),
      code('CLOUD_KEY_UNSUPPORTED'),
    )
  })

  it('refuses what is not a CSR, and names it cannot certify', async (t) => {
    const ca = await openCertificateAuthority({ dir: join(await tempDir(t), 'ca') })
    const { csrPem } = await makeCsr()
    for (const bad of [
      '',
      'hello',
      csrPem.replace(/[A-Z]{10}/, 'AAAAAAAAAA'),
      'x'.repeat(20_000),
    ]) {
      await assert.rejects(
        ca.issueDeviceCertificate({ csrPem: bad, tenantId: 't', deviceId: 'd' }),
        code('CLOUD_CSR_INVALID'),
      )
    }
    for (const [tenantId, deviceId] of [
      ['a:b', 'd'],
      ['', 'd'],
      ['t', 'has space'],
      ['t', 'a/b'],
      ['t', ''],
    ]) {
      await assert.rejects(
        ca.issueDeviceCertificate({ csrPem, tenantId: tenantId!, deviceId: deviceId! }),
        code('CLOUD_ISSUE_INVALID'),
      )
    }
    for (const validityDays of [0, 1.5, 4000]) {
      await assert.rejects(
        ca.issueDeviceCertificate({ csrPem, tenantId: 't', deviceId: 'd', validityDays }),
        code('CLOUD_ISSUE_INVALID'),
      )
    }
  })

  it('reads the identity from a TLS peer certificate, and refuses certificates without one', async (t) => {
    const dir = await tempDir(t)
    const ca = await openCertificateAuthority({ dir: join(dir, 'ca') })
    const issued = await ca.issueDeviceCertificate({
      csrPem: (await makeCsr()).csrPem,
      tenantId: 't',
      deviceId: 'd',
    })
    const raw = new NodeX509(issued.certificatePem).raw
    assert.equal(deviceIdentityFromCertificate({ raw } as PeerCertificate).deviceId, 'd')
    assert.equal(deviceIdentityFromCertificate(new Uint8Array(raw)).tenantId, 't')

    const server = await ca.issueServerCertificate({ hostnames: ['localhost'] })
    assert.throws(
      () => deviceIdentityFromCertificate(server.certificatePem),
      code('CLOUD_CERT_INVALID'),
    )
    assert.throws(
      () => deviceIdentityFromCertificate({} as PeerCertificate),
      code('CLOUD_CERT_INVALID'),
    )
    assert.throws(() => deviceIdentityFromCertificate('garbage'), code('CLOUD_CERT_INVALID'))
    await assert.rejects(
      ca.verifyDeviceCertificate(server.certificatePem),
      code('CLOUD_CERT_INVALID'),
    )
  })

  it('verifies against this CA only, and only while valid', async (t) => {
    const dir = await tempDir(t)
    const now = Date.now()
    const ca = await openCertificateAuthority({ dir: join(dir, 'ca'), clock: () => now })
    const other = await openCertificateAuthority({ dir: join(dir, 'other') })
    const { csrPem } = await makeCsr()
    const foreign = await other.issueDeviceCertificate({ csrPem, tenantId: 't', deviceId: 'd' })
    await assert.rejects(
      ca.verifyDeviceCertificate(foreign.certificatePem),
      code('CLOUD_CERT_INVALID'),
    )

    const issued = await ca.issueDeviceCertificate({
      csrPem,
      tenantId: 't',
      deviceId: 'd',
      validityDays: 1,
    })
    await ca.verifyDeviceCertificate(issued.certificatePem, now)
    await assert.rejects(
      ca.verifyDeviceCertificate(issued.certificatePem, now + 2 * 86_400_000),
      code('CLOUD_CERT_EXPIRED'),
    )
    await assert.rejects(
      ca.verifyDeviceCertificate(issued.certificatePem, now - 3_600_000),
      code('CLOUD_CERT_EXPIRED'),
    )
    const tampered = flipByte(issued.certificatePem, 'CERTIFICATE', -3)
    await assert.rejects(ca.verifyDeviceCertificate(tampered, now), code('CLOUD_CERT_INVALID'))
  })
})
