import { randomBytes, type KeyObject } from 'node:crypto'
import { mkdtemp, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import {
  caFiles,
  ensureDir,
  ioError,
  keyFileMode,
  publicFileMode,
  syncDir,
  writeFileAtomic,
} from './ca-files.js'
import { signCrl } from './crl.js'
import { authorityKeyIdOf, type SigningCa } from './leaf-certificate.js'
import {
  addYears,
  caSigningAlgorithm,
  exportPrivateKeyPem,
  generateP256KeyPair,
  randomSerialHex,
  spkiOf,
  toPem,
  toSigningKey,
  toVerifyKey,
  toWholeSeconds,
} from './pki.js'
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  nodeCrypto,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  type X509Certificate,
} from './x509.js'

/** The names a new CA gets; each CN is followed by a random suffix so two CAs never clash. */
export interface CaNames {
  /** Subject O of both CA certificates; `Strata` by default. */
  readonly organization?: string
  /** Root CN prefix; `Strata Root CA` by default. */
  readonly root?: string
  /** Intermediate CN prefix; `Strata Intermediate CA` by default. */
  readonly intermediate?: string
}

export const rootValidityYears = 20
export const intermediateValidityYears = 5

/** A new CA certificate with its key, before anything is written. */
export interface NewCaCert {
  readonly cert: X509Certificate
  readonly key: KeyObject
}

function caName(names: CaNames, cn: string): Record<string, string[]>[] {
  return [
    { O: [names.organization ?? 'Strata'] },
    { CN: [`${cn} ${randomBytes(4).toString('hex')}`] },
  ]
}

function caExtensions(pathLength: number): (BasicConstraintsExtension | KeyUsagesExtension)[] {
  return [
    new BasicConstraintsExtension(true, pathLength, true),
    new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
  ]
}

/** A self-signed root: ECDSA P-256, 20 years, pathLen 1. */
export async function createRoot(names: CaNames, now: number): Promise<NewCaCert> {
  const { privateKey, publicKey } = generateP256KeyPair()
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: caName(names, names.root ?? 'Strata Root CA'),
      notBefore: toWholeSeconds(now),
      notAfter: toWholeSeconds(addYears(now, rootValidityYears)),
      keys: { privateKey: await toSigningKey(privateKey), publicKey: await toVerifyKey(publicKey) },
      signingAlgorithm: caSigningAlgorithm,
      extensions: [
        ...caExtensions(1),
        await SubjectKeyIdentifierExtension.create(spkiOf(publicKey), false, nodeCrypto),
      ],
    },
    nodeCrypto,
  )
  return { cert, key: privateKey }
}

/** An intermediate signed by the root: ECDSA P-256, 5 years (never past the root), pathLen 0. */
export async function createIntermediate(
  root: SigningCa,
  names: CaNames,
  now: number,
): Promise<NewCaCert> {
  const { privateKey, publicKey } = generateP256KeyPair()
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: randomSerialHex(),
      subject: caName(names, names.intermediate ?? 'Strata Intermediate CA'),
      issuer: root.cert.subjectName,
      notBefore: toWholeSeconds(now),
      notAfter: toWholeSeconds(
        Math.min(addYears(now, intermediateValidityYears), root.cert.notAfter.getTime()),
      ),
      publicKey: spkiOf(publicKey),
      signingKey: root.signingKey,
      signingAlgorithm: caSigningAlgorithm,
      extensions: [
        ...caExtensions(0),
        await SubjectKeyIdentifierExtension.create(spkiOf(publicKey), false, nodeCrypto),
        await authorityKeyIdOf(root.cert),
      ],
    },
    nodeCrypto,
  )
  return { cert, key: privateKey }
}

/**
 * The root's CRL over its intermediates (empty: Strata revokes intermediates by renewing). Node's
 * TLS sets X509_V_FLAG_CRL_CHECK_ALL once any `crl:` is given, so every intermediate needs a CRL
 * from the root; it stays valid until the newest intermediate expires, so an offline root need
 * not come back before the next renewal.
 */
export async function createRootCrl(
  root: SigningCa,
  now: number,
  nextUpdate: number,
): Promise<string> {
  return toPem(await signCrl(root, [], now, nextUpdate))
}

/**
 * Creates a CA in `dir` when it does not exist: everything is written to a sibling temp folder
 * that is then renamed to `dir`, so a crash or a concurrent open never leaves half a CA. Returns
 * false when another process created `dir` first.
 */
export async function initializeCa(
  dir: string,
  options: {
    readonly names: CaNames
    readonly now: number
    readonly passphrase: string | undefined
  },
): Promise<boolean> {
  const { names, now, passphrase } = options
  const root = await createRoot(names, now)
  const rootSigner = {
    cert: root.cert,
    pem: toPem(root.cert),
    signingKey: await toSigningKey(root.key),
  }
  const intermediate = await createIntermediate(rootSigner, names, now)
  const rootCrl = await createRootCrl(rootSigner, now, intermediate.cert.notAfter.getTime())

  await ensureDir(dirname(dir))
  let tmp: string
  try {
    tmp = await mkdtemp(join(dirname(dir), `.${basename(dir)}.init-`))
  } catch (err) {
    throw ioError(`cannot create a temporary folder beside ${dir}`, err)
  }
  try {
    await writeFileAtomic(tmp, caFiles.rootCert, rootSigner.pem, publicFileMode)
    await writeFileAtomic(
      tmp,
      caFiles.rootKey,
      exportPrivateKeyPem(root.key, passphrase),
      keyFileMode,
    )
    await writeFileAtomic(tmp, caFiles.rootCrl, rootCrl, publicFileMode)
    await writeFileAtomic(tmp, caFiles.intermediateCert, toPem(intermediate.cert), publicFileMode)
    await writeFileAtomic(
      tmp,
      caFiles.intermediateKey,
      exportPrivateKeyPem(intermediate.key, passphrase),
      keyFileMode,
    )
    try {
      // rename() replaces an empty `dir` and fails with ENOTEMPTY/EEXIST on a populated one.
      await rename(tmp, dir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false
      throw ioError(`cannot move the new CA into ${dir}`, err)
    }
    await syncDir(dirname(dir))
    return true
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}
