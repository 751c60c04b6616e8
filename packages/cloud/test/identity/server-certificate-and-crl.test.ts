import assert from 'node:assert/strict'
import { createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  certificateNeedsRenewal,
  IdentityError,
  openCertificateAuthority,
} from '../../src/identity/index.js'
import { tempDir } from './helpers.js'

function code(c: string) {
  return (err: unknown) => err instanceof IdentityError && err.code === c
}

describe('server certificates', () => {
  it('covers DNS names and IP addresses, for serverAuth', async (t) => {
    const now = Date.UTC(2026, 5, 1)
    const ca = await openCertificateAuthority({
      dir: join(await tempDir(t), 'ca'),
      clock: () => now,
    })
    const issued = await ca.issueServerCertificate({
      hostnames: [
        'Strata.Example.com',
        '10.0.0.7',
        '[::1]',
        '*.devices.example.com',
        'strata.example.com',
      ],
    })
    const cert = new NodeX509(issued.certificatePem)
    assert.equal(
      cert.subjectAltName,
      'DNS:strata.example.com, IP Address:10.0.0.7, IP Address:0:0:0:0:0:0:0:1, DNS:*.devices.example.com',
    )
    assert.equal(cert.subject, 'CN=strata.example.com')
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'])
    assert.ok(cert.checkPrivateKey(createPrivateKey(issued.keyPem)))
    assert.ok(cert.checkHost('strata.example.com'))
    assert.equal(cert.checkIP('10.0.0.7'), '10.0.0.7')
    assert.equal(issued.notAfter - issued.notBefore, 90 * 86_400_000 + 5 * 60_000)
  })

  it('refuses hostnames it cannot certify', async (t) => {
    const ca = await openCertificateAuthority({ dir: join(await tempDir(t), 'ca') })
    for (const hostnames of [
      [],
      ['bad host'],
      ['-x.example'],
      ['*.com'],
      ['a..b'],
      ['x'.repeat(64) + '.com'],
    ]) {
      await assert.rejects(ca.issueServerCertificate({ hostnames }), code('CLOUD_ISSUE_INVALID'))
    }
  })

  it('says when a certificate needs renewal: under a third of its life left', () => {
    const cert = { notBefore: 0, notAfter: 90 }
    assert.equal(certificateNeedsRenewal(cert, 59), false)
    assert.equal(certificateNeedsRenewal(cert, 61), true)
    assert.equal(certificateNeedsRenewal(cert, 100), true)
    assert.equal(certificateNeedsRenewal(cert, 20, 0.8), true)
  })

  it('reads the validity from a PEM', async (t) => {
    let now = Date.now()
    const ca = await openCertificateAuthority({
      dir: join(await tempDir(t), 'ca'),
      clock: () => now,
    })
    const { certificatePem } = await ca.issueServerCertificate({
      hostnames: ['localhost'],
      validityDays: 30,
    })
    assert.equal(certificateNeedsRenewal(certificatePem, now), false)
    now += 21 * 86_400_000
    assert.equal(certificateNeedsRenewal(certificatePem, now), true)
    assert.throws(() => certificateNeedsRenewal('nope', now), code('CLOUD_CERT_INVALID'))
  })
})

describe('CRLs', () => {
  it('lists revoked serials with reasons and a nextUpdate, readable by openssl', async (t) => {
    const now = Date.UTC(2026, 5, 1, 8)
    const ca = await openCertificateAuthority({
      dir: join(await tempDir(t), 'ca'),
      clock: () => now,
    })
    const a = '4'.repeat(32)
    const crl = await ca.createCrl(
      [
        { serialNumber: a, revokedAt: now - 5000, reason: 'keyCompromise' },
        { serialNumber: 'ABCD', revokedAt: now - 1000 },
        { serialNumber: a.toUpperCase(), revokedAt: now - 9000, reason: 'superseded' },
      ],
      { nextUpdateMs: 7 * 86_400_000 },
    )
    assert.equal(crl.revokedCount, 2)
    assert.equal(crl.thisUpdate, now)
    assert.equal(crl.nextUpdate, now + 7 * 86_400_000)
    assert.equal(crl.tlsCrlPems.length, 2)
    assert.equal(crl.tlsCrlPems[0], crl.crlPem)
    const text = execFileSync('openssl', ['crl', '-noout', '-text'], {
      input: crl.crlPem,
      encoding: 'utf8',
    })
    assert.match(text, /Next Update: Jun {2}8 08:00:00 2026 GMT/)
    assert.match(
      text,
      new RegExp(
        `Serial Number: ${a}\\s+Revocation Date: Jun  1 07:59:51 2026 GMT[\\s\\S]+?Superseded`,
      ),
    )
    assert.match(text, /Serial Number: ABCD/)
  })

  it('refuses bad serials and CRL periods', async (t) => {
    const ca = await openCertificateAuthority({ dir: join(await tempDir(t), 'ca') })
    await assert.rejects(
      ca.createCrl([{ serialNumber: 'xyz', revokedAt: 0 }], { nextUpdateMs: 60_000 }),
      code('CLOUD_ISSUE_INVALID'),
    )
    await assert.rejects(
      ca.createCrl([{ serialNumber: 'ab', revokedAt: NaN }], { nextUpdateMs: 60_000 }),
      code('CLOUD_ISSUE_INVALID'),
    )
    for (const nextUpdateMs of [0, 59_999, 367 * 86_400_000, 1.5e6 + 0.5]) {
      await assert.rejects(ca.createCrl([], { nextUpdateMs }), code('CLOUD_ISSUE_INVALID'))
    }
  })
})
