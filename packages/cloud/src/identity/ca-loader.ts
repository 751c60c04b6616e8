import { createPrivateKey, type KeyObject } from 'node:crypto'
import { caFiles, corrupt, readOptional } from './ca-files.js'
import { IdentityError } from './identity-error.js'
import type { SigningCa } from './leaf-certificate.js'
import { keyMatchesCertificate, toPem, toSigningKey } from './pki.js'
import { BasicConstraintsExtension, nodeCrypto, X509Certificate, X509Crl } from './x509.js'

/** An intermediate with its key, ready to sign. */
export interface CaGeneration extends SigningCa {
  readonly key: KeyObject
  /** True when its key file is passphrase-encrypted. */
  readonly keyEncrypted: boolean
}

/** Everything read from a CA folder. */
export interface CaState {
  readonly root: { readonly cert: X509Certificate; readonly pem: string }
  /** Undefined while the root is offline. */
  readonly rootKey: KeyObject | undefined
  readonly rootCrlPem: string
  readonly current: CaGeneration
  readonly previous: CaGeneration | undefined
}

/** Reads and cross-checks a CA folder; CLOUD_CA_CORRUPT names the first file that is wrong. */
export async function loadCa(dir: string, passphrase: string | undefined): Promise<CaState> {
  const rootPem = await required(dir, caFiles.rootCert)
  const root = parseCert(dir, caFiles.rootCert, rootPem)
  if (
    !isCa(root) ||
    !(await root.verify({ publicKey: root.publicKey, signatureOnly: true }, nodeCrypto))
  ) {
    throw corrupt(dir, caFiles.rootCert, 'is not a self-signed CA certificate')
  }
  const rootKeyPem = await readOptional(dir, caFiles.rootKey)
  const rootKey =
    rootKeyPem === undefined
      ? undefined
      : parseKey(dir, caFiles.rootKey, rootKeyPem, passphrase, root)

  const rootCrlPem = await required(dir, caFiles.rootCrl)
  let rootCrl: X509Crl
  try {
    rootCrl = new X509Crl(rootCrlPem)
  } catch (err) {
    throw corrupt(dir, caFiles.rootCrl, 'does not parse as a CRL', err)
  }
  if (!(await rootCrl.verify({ publicKey: root }, nodeCrypto))) {
    throw corrupt(dir, caFiles.rootCrl, `is not signed by ${caFiles.rootCert}`)
  }

  const current = await loadGeneration(
    dir,
    caFiles.intermediateCert,
    caFiles.intermediateKey,
    root,
    passphrase,
  )
  if (current === undefined) throw corrupt(dir, caFiles.intermediateCert, 'is missing')
  const previous = await loadGeneration(
    dir,
    caFiles.previousCert,
    caFiles.previousKey,
    root,
    passphrase,
  )
  return {
    root: { cert: root, pem: toPem(root) },
    rootKey,
    rootCrlPem: rootCrlPem.trimEnd() + '\n',
    current,
    previous,
  }
}

async function loadGeneration(
  dir: string,
  certName: string,
  keyName: string,
  root: X509Certificate,
  passphrase: string | undefined,
): Promise<CaGeneration | undefined> {
  const pem = await readOptional(dir, certName)
  if (pem === undefined) return undefined
  const cert = parseCert(dir, certName, pem)
  if (!isCa(cert) || cert.issuer !== root.subject) {
    throw corrupt(dir, certName, `is not a CA certificate issued by ${caFiles.rootCert}`)
  }
  if (!(await cert.verify({ publicKey: root.publicKey, signatureOnly: true }, nodeCrypto))) {
    throw corrupt(dir, certName, `is not signed by the key of ${caFiles.rootCert}`)
  }
  const keyPem = await required(dir, keyName)
  const key = parseKey(dir, keyName, keyPem, passphrase, cert)
  return {
    cert,
    pem: toPem(cert),
    key,
    signingKey: await toSigningKey(key),
    keyEncrypted: isEncryptedPem(keyPem),
  }
}

async function required(dir: string, name: string): Promise<string> {
  const text = await readOptional(dir, name)
  if (text === undefined) throw corrupt(dir, name, 'is missing')
  return text
}

function parseCert(dir: string, name: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem)
  } catch (err) {
    throw corrupt(dir, name, 'does not parse as a PEM certificate', err)
  }
}

function isEncryptedPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')
}

function isCa(cert: X509Certificate): boolean {
  return cert.getExtension(BasicConstraintsExtension)?.ca === true
}

function parseKey(
  dir: string,
  name: string,
  pem: string,
  passphrase: string | undefined,
  cert: X509Certificate,
): KeyObject {
  const encrypted = isEncryptedPem(pem)
  if (encrypted && passphrase === undefined) {
    throw new IdentityError(
      'CLOUD_CA_PASSPHRASE',
      `${name} in ${dir} is encrypted and no passphrase was given`,
      {
        hint: 'Start the node with the CA passphrase it was created with.',
        details: { file: name },
      },
    )
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem', ...(encrypted ? { passphrase } : {}) })
  } catch (err) {
    if (encrypted) {
      throw new IdentityError(
        'CLOUD_CA_PASSPHRASE',
        `the passphrase does not decrypt ${name} in ${dir}`,
        {
          hint: 'Give the passphrase the CA was created with.',
          details: { file: name },
          cause: err,
        },
      )
    }
    throw corrupt(dir, name, 'does not parse as a PEM private key', err)
  }
  if (key.asymmetricKeyType !== 'ec' || !keyMatchesCertificate(key, cert)) {
    throw corrupt(dir, name, `is not the key of the certificate beside it`)
  }
  return key
}
