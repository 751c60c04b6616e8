import assert from 'node:assert/strict'
import { X509Certificate as NodeX509 } from 'node:crypto'
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { IdentityError, openCertificateAuthority } from '../../src/identity/index.js'
import { makeCsr, opensslText, tempDir } from './helpers.js'

function code(c: string, file?: string) {
  return (err: unknown) =>
    err instanceof IdentityError &&
    err.code === c &&
    (file === undefined || (err.message.includes(file) && err.details['file'] === file))
}

const year = 365.25 * 86_400_000

describe('CA folder', () => {
  it('creates a root and an intermediate on first use, with private files', async (t) => {
    const dir = join(await tempDir(t), 'data', 'ca')
    const now = Date.UTC(2026, 2, 1)
    const ca = await openCertificateAuthority({
      dir,
      clock: () => now,
      names: { organization: 'Acme' },
    })
    assert.deepEqual((await readdir(dir)).sort(), [
      'intermediate.crt',
      'intermediate.key',
      'root.crl',
      'root.crt',
      'root.key',
    ])
    assert.equal((await stat(dir)).mode & 0o777, 0o700)
    for (const key of ['root.key', 'intermediate.key']) {
      assert.equal((await stat(join(dir, key))).mode & 0o777, 0o600)
      assert.match(await readFile(join(dir, key), 'utf8'), /^-----BEGIN PRIVATE KEY-----/)
    }
    const root = new NodeX509(await readFile(join(dir, 'root.crt')))
    const intermediate = new NodeX509(await readFile(join(dir, 'intermediate.crt')))
    assert.ok(root.verify(root.publicKey))
    assert.ok(intermediate.verify(root.publicKey))
    assert.match(root.subject, /^O=Acme\nCN=Strata Root CA [0-9a-f]{8}$/)
    assert.equal(intermediate.issuer, root.subject)
    assert.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
    assert.equal(Date.parse(root.validTo), Date.UTC(2046, 2, 1))
    assert.equal(Date.parse(intermediate.validTo), Date.UTC(2031, 2, 1))
    assert.match(opensslText(root.toString()), /CA:TRUE, pathlen:1/)
    assert.match(opensslText(intermediate.toString()), /CA:TRUE, pathlen:0/)
    assert.match(opensslText(intermediate.toString()), /Certificate Sign, CRL Sign/)
    assert.equal(ca.info.rootKeyPresent, true)
    assert.equal(ca.info.keysEncrypted, false)
    assert.equal(ca.caChainPem(), intermediate.toString() + root.toString())
  })

  it('reads the same CA when opened again, also by two at once', async (t) => {
    const dir = join(await tempDir(t), 'ca')
    const [a, b] = await Promise.all([
      openCertificateAuthority({ dir }),
      openCertificateAuthority({ dir }),
    ])
    assert.deepEqual(a.info, b.info)
    const again = await openCertificateAuthority({ dir })
    assert.deepEqual(again.info, a.info)
    assert.equal(again.trustAnchorsPem(), a.trustAnchorsPem())
    assert.deepEqual(
      (await readdir(join(dir, '..'))).filter((n) => n !== 'ca'),
      [],
    )
  })

  it('works with the root key offline; only renewal needs it', async (t) => {
    const dir = join(await tempDir(t), 'ca')
    const first = await openCertificateAuthority({ dir })
    await rm(join(dir, 'root.key'))
    const ca = await openCertificateAuthority({ dir })
    assert.equal(ca.info.rootKeyPresent, false)
    assert.equal(ca.info.root.fingerprintSha256, first.info.root.fingerprintSha256)
    const issued = await ca.issueDeviceCertificate({
      csrPem: (await makeCsr()).csrPem,
      tenantId: 't',
      deviceId: 'd',
    })
    await ca.verifyDeviceCertificate(issued.certificatePem)
    await ca.createCrl([{ serialNumber: issued.serialNumber, revokedAt: Date.now() }], {
      nextUpdateMs: 3_600_000,
    })
    await assert.rejects(
      ca.renewIntermediate(),
      (err: unknown) =>
        code('CLOUD_CA_UNAVAILABLE', 'root.key')(err) &&
        (err as IdentityError).hint!.includes('offline'),
    )
  })

  it('renews the intermediate with the root key and keeps trusting the old one', async (t) => {
    const dir = join(await tempDir(t), 'ca')
    const ca = await openCertificateAuthority({ dir })
    const before = ca.info
    const old = await ca.issueDeviceCertificate({
      csrPem: (await makeCsr()).csrPem,
      tenantId: 't',
      deviceId: 'old',
    })
    const after = await ca.renewIntermediate()
    assert.notEqual(after.intermediate.fingerprintSha256, before.intermediate.fingerprintSha256)
    assert.equal(
      after.previousIntermediate?.fingerprintSha256,
      before.intermediate.fingerprintSha256,
    )
    assert.notEqual(after.intermediate.subject, before.intermediate.subject)
    const fresh = await ca.issueDeviceCertificate({
      csrPem: (await makeCsr()).csrPem,
      tenantId: 't',
      deviceId: 'new',
    })
    assert.equal(
      new NodeX509(fresh.certificatePem).issuer,
      after.intermediate.subject.replaceAll(', ', '\n'),
    )

    const reopened = await openCertificateAuthority({ dir })
    assert.deepEqual(reopened.info, after)
    assert.equal((await reopened.verifyDeviceCertificate(old.certificatePem)).deviceId, 'old')
    assert.equal((await reopened.verifyDeviceCertificate(fresh.certificatePem)).deviceId, 'new')
    const crl = await reopened.createCrl([], { nextUpdateMs: 60_000 })
    assert.equal(crl.tlsCrlPems.length, 3)
  })

  it('encrypts keys with the passphrase and reopens only with it', async (t) => {
    const dir = join(await tempDir(t), 'ca')
    const passphrase = 'correct horse battery staple'
    await openCertificateAuthority({ dir, passphrase })
    for (const key of ['root.key', 'intermediate.key']) {
      assert.match(await readFile(join(dir, key), 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/)
    }
    const ca = await openCertificateAuthority({ dir, passphrase })
    assert.equal(ca.info.keysEncrypted, true)
    await ca.issueDeviceCertificate({
      csrPem: (await makeCsr()).csrPem,
      tenantId: 't',
      deviceId: 'd',
    })
    await assert.rejects(openCertificateAuthority({ dir }), code('CLOUD_CA_PASSPHRASE', 'root.key'))
    await assert.rejects(
      openCertificateAuthority({ dir, passphrase: 'wrong' }),
      code('CLOUD_CA_PASSPHRASE', 'root.key'),
    )
    await rm(join(dir, 'root.key'))
    await assert.rejects(
      openCertificateAuthority({ dir }),
      code('CLOUD_CA_PASSPHRASE', 'intermediate.key'),
    )
    const renewed = await openCertificateAuthority({ dir, passphrase })
    assert.equal(renewed.info.rootKeyPresent, false)
  })

  it('names the file that is corrupt, missing or mismatched', async (t) => {
    const base = await tempDir(t)
    const cases: [string, (dir: string) => Promise<void>][] = [
      ['intermediate.crt', (dir) => writeFile(join(dir, 'intermediate.crt'), 'not a certificate')],
      [
        'root.crt',
        (dir) =>
          writeFile(
            join(dir, 'root.crt'),
            '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
          ),
      ],
      ['intermediate.key', (dir) => writeFile(join(dir, 'intermediate.key'), 'garbage')],
      ['root.crl', (dir) => rm(join(dir, 'root.crl'))],
      [
        'intermediate.key',
        async (dir) => {
          // The root's key beside the intermediate's certificate.
          await writeFile(join(dir, 'intermediate.key'), await readFile(join(dir, 'root.key')))
        },
      ],
      [
        'intermediate.crt',
        async (dir) => {
          // Another CA's intermediate: not signed by this root.
          const other = join(base, 'other')
          await openCertificateAuthority({ dir: other })
          await writeFile(
            join(dir, 'intermediate.crt'),
            await readFile(join(other, 'intermediate.crt')),
          )
          await writeFile(
            join(dir, 'intermediate.key'),
            await readFile(join(other, 'intermediate.key')),
          )
        },
      ],
    ]
    for (const [i, [file, damage]] of cases.entries()) {
      const dir = join(base, `ca${String(i)}`)
      await openCertificateAuthority({ dir })
      await damage(dir)
      await assert.rejects(
        openCertificateAuthority({ dir }),
        code('CLOUD_CA_CORRUPT', file),
        `case ${String(i)}`,
      )
    }
  })

  it('does not issue past the intermediate expiry', async (t) => {
    const dir = join(await tempDir(t), 'ca')
    let now = Date.now()
    const ca = await openCertificateAuthority({ dir, clock: () => now })
    now += 4.9 * year
    const issued = await ca.issueDeviceCertificate({
      csrPem: (await makeCsr()).csrPem,
      tenantId: 't',
      deviceId: 'd',
    })
    assert.equal(issued.notAfter, ca.info.intermediate.notAfter)
    now += year
    await assert.rejects(
      ca.issueDeviceCertificate({ csrPem: (await makeCsr()).csrPem, tenantId: 't', deviceId: 'd' }),
      code('CLOUD_CA_UNAVAILABLE'),
    )
  })
})
