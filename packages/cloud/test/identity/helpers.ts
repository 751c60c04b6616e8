// Test helpers for the identity module: temp CA folders and device CSRs made the way devices
// make them, with @peculiar/x509 (WebCrypto) or with the openssl command line.
import 'reflect-metadata'
import { execFileSync } from 'node:child_process'
import { KeyObject, webcrypto } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { Pkcs10CertificateRequestGenerator } from '@peculiar/x509'

export type KeyKind = 'p256' | 'p384' | 'p521' | 'ed25519' | 'rsa1024' | 'rsa2048'

type GenParams = webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | webcrypto.Algorithm
type SignParams = webcrypto.EcdsaParams | webcrypto.Algorithm

const algorithms: Record<KeyKind, { gen: GenParams; sign: SignParams }> = {
  p256: { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  p384: { gen: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  p521: { gen: { name: 'ECDSA', namedCurve: 'P-521' }, sign: { name: 'ECDSA', hash: 'SHA-512' } },
  ed25519: { gen: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
  rsa1024: { gen: rsa(1024), sign: { name: 'RSASSA-PKCS1-v1_5' } },
  rsa2048: { gen: rsa(2048), sign: { name: 'RSASSA-PKCS1-v1_5' } },
}

function rsa(modulusLength: number): webcrypto.RsaHashedKeyGenParams {
  return {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  }
}

/** A fresh folder removed after the test. */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-identity-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A CSR and its private key (PKCS#8 PEM), made with @peculiar/x509 on node's WebCrypto. */
export async function makeCsr(
  kind: KeyKind = 'p256',
  subject = 'CN=device-asks-for-this, O=Mallory',
): Promise<{ csrPem: string; keyPem: string }> {
  const { gen, sign } = algorithms[kind]
  const keys = await webcrypto.subtle.generateKey(gen as webcrypto.EcKeyGenParams, true, [
    'sign',
    'verify',
  ])
  const csr = await Pkcs10CertificateRequestGenerator.create(
    { name: subject, keys, signingAlgorithm: sign },
    webcrypto as any,
  )
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string
  return { csrPem: csr.toString('pem'), keyPem }
}

/** A P-256 CSR made by `openssl req`, as a device toolchain would. */
export async function opensslCsr(
  dir: string,
  subject = '/CN=from-openssl/O=Device Maker',
): Promise<{ csrPem: string; keyPem: string }> {
  const keyPath = join(dir, 'openssl-device.key')
  const config = join(dir, 'openssl.cnf')
  await writeFile(config, '[req]\ndistinguished_name=dn\n[dn]\n')
  const out = execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-config',
      config,
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyPath,
      '-subj',
      subject,
      '-addext',
      'subjectAltName=DNS:evil.example',
    ],
    { encoding: 'utf8' },
  )
  return { csrPem: out, keyPem: await readFile(keyPath, 'utf8') }
}

/** `pem` with one byte of its DER at `offset` (negative: from the end) XOR-ed with 1. */
export function flipByte(pem: string, label: string, offset: number): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')
  const at = offset < 0 ? der.length + offset : offset
  der[at] = (der[at] ?? 0) ^ 1
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n')
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`
}

/** The `openssl x509 -text` dump of a certificate. */
export function opensslText(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' })
}
