import { createPrivateKey, X509Certificate } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DeviceError } from '../errors.js'

/** What a provisioned device keeps: its id, its certificate and key, and the CA chain to trust. */
export interface DeviceIdentity {
  readonly deviceId: string
  /** The device certificate (PEM) Strata's CA issued. */
  readonly certificatePem: string
  /** The device's private key (PKCS#8 PEM); it never left the device. */
  readonly privateKeyPem: string
  /** The CA chain (PEM, intermediate then root): trust it for the broker, present it with the certificate. */
  readonly caChainPem: string
}

/** The files of an identity folder; `private-key.pem` is mode 0600. */
export const identityFiles = {
  deviceId: 'device-id',
  certificate: 'certificate.pem',
  privateKey: 'private-key.pem',
  caChain: 'ca-chain.pem',
} as const

/**
 * Saves an identity to `dir` (created 0700): every file is written to a temporary file, fsynced,
 * then renamed over the old one, and the folder is fsynced, so a power cut leaves either the old
 * or the new file, never half of one. The key file is 0600. The files are plain PEM, so
 * `mosquitto_pub --cert certificate.pem --key private-key.pem --cafile ca-chain.pem` works too.
 *
 * @example
 * const identity = await provisionWithClaim({ url, claimToken, serial: 'SN-0042' })
 * await saveIdentity('/var/lib/strata', identity)
 */
export async function saveIdentity(dir: string, identity: DeviceIdentity): Promise<void> {
  checkIdentity(identity, dir)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const files: [name: string, text: string, mode: number][] = [
    [identityFiles.privateKey, identity.privateKeyPem, 0o600],
    [identityFiles.certificate, identity.certificatePem, 0o644],
    [identityFiles.caChain, identity.caChainPem, 0o644],
    [identityFiles.deviceId, `${identity.deviceId}\n`, 0o644],
  ]
  const suffix = `.tmp-${String(process.pid)}`
  try {
    for (const [name, text, mode] of files) await writeSynced(join(dir, name + suffix), text, mode)
    for (const [name] of files) await rename(join(dir, name + suffix), join(dir, name))
  } catch (err) {
    await Promise.all(files.map(([name]) => rm(join(dir, name + suffix), { force: true })))
    throw err
  }
  await syncDir(dir)
}

/**
 * Loads the identity `saveIdentity` wrote; undefined when `dir` holds none (not provisioned yet).
 * Throws `DEVICE_IDENTITY_INVALID` when files are missing or the key does not match the
 * certificate.
 *
 * @example
 * const identity = (await loadIdentity(dir)) ?? (await provisionWithClaim({ … }))
 */
export async function loadIdentity(dir: string): Promise<DeviceIdentity | undefined> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }
  const [deviceId, certificatePem, privateKeyPem, caChainPem] = await Promise.all([
    read(identityFiles.deviceId),
    read(identityFiles.certificate),
    read(identityFiles.privateKey),
    read(identityFiles.caChain),
  ])
  if ([deviceId, certificatePem, privateKeyPem, caChainPem].every((t) => t === undefined))
    return undefined
  if (
    deviceId === undefined ||
    certificatePem === undefined ||
    privateKeyPem === undefined ||
    caChainPem === undefined
  ) {
    const missing = Object.values(identityFiles).filter(
      (_, i) => [deviceId, certificatePem, privateKeyPem, caChainPem][i] === undefined,
    )
    throw new DeviceError(
      'DEVICE_IDENTITY_INVALID',
      `the identity in ${dir} lacks ${missing.join(', ')}`,
      {
        hint: 'Restore the folder from a backup, or delete it and provision the device again.',
      },
    )
  }
  const identity = { deviceId: deviceId.trim(), certificatePem, privateKeyPem, caChainPem }
  checkIdentity(identity, dir)
  return identity
}

function checkIdentity(identity: DeviceIdentity, where: string): void {
  const fail = (why: string, cause?: unknown) =>
    new DeviceError('DEVICE_IDENTITY_INVALID', `the identity for ${where}: ${why}`, {
      hint: 'Provision the device again (provisionWithClaim) and save the identity it returns.',
      ...(cause === undefined ? {} : { cause }),
    })
  let matches: boolean
  try {
    matches = new X509Certificate(identity.certificatePem).checkPrivateKey(
      createPrivateKey(identity.privateKeyPem),
    )
  } catch (err) {
    throw fail('the certificate or the key is not valid PEM', err)
  }
  if (!matches) throw fail('the private key does not belong to the certificate')
  if (!identity.caChainPem.includes('-----BEGIN CERTIFICATE-----'))
    throw fail('the CA chain holds no certificate')
}

async function writeSynced(path: string, text: string, mode: number): Promise<void> {
  const file = await open(path, 'w', mode)
  try {
    await file.writeFile(text, 'utf8')
    await file.chmod(mode)
    await file.sync()
  } finally {
    await file.close()
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
