import 'reflect-metadata'
import assert from 'node:assert/strict'
import { KeyObject, webcrypto } from 'node:crypto'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { X509CertificateGenerator } from '@peculiar/x509'
import { loadIdentity, saveIdentity, type DeviceIdentity } from './device-identity.js'

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

async function selfSigned(cn: string): Promise<{ certificatePem: string; privateKeyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: `CN=${cn}`,
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 86_400_000),
      keys,
      signingAlgorithm: alg,
    },
    webcrypto,
  )
  const privateKeyPem = String(
    KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }),
  )
  return { certificatePem: cert.toString('pem'), privateKeyPem }
}

async function identityOf(deviceId: string): Promise<DeviceIdentity> {
  const device = await selfSigned(deviceId)
  const ca = await selfSigned('Test CA')
  return { deviceId, ...device, caChainPem: ca.certificatePem }
}

describe('saveIdentity / loadIdentity', () => {
  it('round-trips an identity, the key file 0600, no temporary files left', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-identity-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    assert.equal(await loadIdentity(join(dir, 'nothing')), undefined, 'not provisioned yet')
    const first = await identityOf('SN-1')
    await saveIdentity(join(dir, 'id'), first)
    assert.deepEqual(await loadIdentity(join(dir, 'id')), first)
    assert.equal((await stat(join(dir, 'id', 'private-key.pem'))).mode & 0o777, 0o600)
    assert.equal((await stat(join(dir, 'id'))).mode & 0o777, 0o700)

    const renewed = await identityOf('SN-1')
    await saveIdentity(join(dir, 'id'), renewed)
    assert.deepEqual(await loadIdentity(join(dir, 'id')), renewed)
    assert.deepEqual((await readdir(join(dir, 'id'))).sort(), [
      'ca-chain.pem',
      'certificate.pem',
      'device-id',
      'private-key.pem',
    ])
  })

  it('refuses a key that does not belong to the certificate, and an incomplete folder', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-identity-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const a = await identityOf('SN-2')
    const b = await identityOf('SN-3')
    await assert.rejects(saveIdentity(dir, { ...a, privateKeyPem: b.privateKeyPem }), {
      code: 'DEVICE_IDENTITY_INVALID',
    })
    await saveIdentity(dir, a)
    await rm(join(dir, 'certificate.pem'))
    await assert.rejects(
      loadIdentity(dir),
      (err: any) => err.code === 'DEVICE_IDENTITY_INVALID' && /certificate\.pem/.test(err.message),
    )
  })
})
