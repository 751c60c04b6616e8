import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { certificateNeedsRenewal, type CertificateAuthority } from '../identity/index.js'

/** The node's own TLS key and certificate, issued by its CA for the names clients use. */
export interface ServerTls {
  readonly keyPem: string
  readonly certificatePem: string
}

/**
 * Loads `DIR/tls/server.{key,crt}`, issuing (or renewing, when a third of its life is left, or when
 * the names changed) a certificate from the node's CA for `hostnames`.
 */
export async function loadServerTls(
  ca: CertificateAuthority,
  dir: string,
  hostnames: readonly string[],
  now: number,
): Promise<ServerTls> {
  const tlsDir = join(dir, 'tls')
  await mkdir(tlsDir, { recursive: true, mode: 0o700 })
  const keyPath = join(tlsDir, 'server.key')
  const certPath = join(tlsDir, 'server.crt')
  const namesPath = join(tlsDir, 'server.names')
  const names = [...new Set(hostnames)].sort().join(',')
  try {
    const [keyPem, certificatePem, saved] = await Promise.all([
      readFile(keyPath, 'utf8'),
      readFile(certPath, 'utf8'),
      readFile(namesPath, 'utf8'),
    ])
    if (saved === names && !certificateNeedsRenewal(certificatePem, now))
      return { keyPem, certificatePem }
  } catch {
    // absent or unreadable: issue a new one below
  }
  const issued = await ca.issueServerCertificate({ hostnames: names.split(',') })
  const certificatePem = issued.certificatePem + issued.chainPem[0]
  await writeAtomic(keyPath, issued.keyPem, 0o600)
  await writeAtomic(certPath, certificatePem, 0o644)
  await writeAtomic(namesPath, names, 0o644)
  return { keyPem: issued.keyPem, certificatePem }
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp`
  await writeFile(tmp, text, { mode })
  await chmod(tmp, mode)
  await rename(tmp, path)
}
