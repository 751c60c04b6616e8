import { readdir } from 'node:fs/promises'
import { createIntermediate, createRootCrl, initializeCa, type CaNames } from './ca-bootstrap.js'
import { caFiles, ioError, keyFileMode, publicFileMode, writeFileAtomic } from './ca-files.js'
import { loadCa, type CaGeneration, type CaState } from './ca-loader.js'
import type { CertificateInput } from './certificate-input.js'
import { signCrl, type RevokedCertificate } from './crl.js'
import {
  issueDeviceCertificate,
  type DeviceCertificateRequest,
  type IssuedDeviceCertificate,
} from './device-certificate.js'
import type { DeviceIdentity } from './device-identity.js'
import { verifyDeviceCertificate } from './device-verify.js'
import { IdentityError } from './identity-error.js'
import { exportPrivateKeyPem, fingerprintOf, toPem, toSigningKey } from './pki.js'
import {
  issueServerCertificate,
  type IssuedServerCertificate,
  type ServerCertificateRequest,
} from './server-certificate.js'
import type { X509Certificate } from './x509.js'

/** Where the CA lives and how to open it. */
export interface CertificateAuthorityOptions {
  /** The CA folder itself, e.g. `<data>/ca`; created (mode 0700) on first use. */
  readonly dir: string
  /** Epoch ms; `Date.now` by default. */
  readonly clock?: () => number
  /** Encrypts new key files (AES-256-CBC PKCS#8) and decrypts existing ones. */
  readonly passphrase?: string
  /** Names for a CA created now (or an intermediate renewed now); ignored for existing ones. */
  readonly names?: CaNames
}

/** A CA certificate, summarised. */
export interface CaCertificateInfo {
  readonly subject: string
  readonly serialNumber: string
  /** Epoch ms. */
  readonly notBefore: number
  /** Epoch ms. */
  readonly notAfter: number
  readonly fingerprintSha256: string
}

/** The state of a CA folder. */
export interface CaInfo {
  readonly dir: string
  readonly root: CaCertificateInfo
  readonly intermediate: CaCertificateInfo
  /** The intermediate before the last renewal, while it is kept. */
  readonly previousIntermediate: CaCertificateInfo | undefined
  /** False while the root key is offline (only intermediate renewal needs it). */
  readonly rootKeyPresent: boolean
  readonly keysEncrypted: boolean
}

/** How long a CRL stays current. */
export interface CrlOptions {
  /** From now to the CRL's nextUpdate: 1 minute to 366 days. Re-sign before it passes. */
  readonly nextUpdateMs: number
}

/** A signed CRL set. */
export interface IssuedCrl {
  /** The current intermediate's CRL, PEM. */
  readonly crlPem: string
  /**
   * Every CRL a TLS listener needs as `crl:`: one per live intermediate and the root's CRL
   * over the intermediates (node turns on CRL checks for the whole chain once any CRL is given).
   */
  readonly tlsCrlPems: string[]
  /** Epoch ms (whole seconds). */
  readonly thisUpdate: number
  /** Epoch ms (whole seconds). */
  readonly nextUpdate: number
  /** Distinct serial numbers listed. */
  readonly revokedCount: number
}

const maxCrlPeriodMs = 366 * 86_400_000

/** Opens the CA in `options.dir`, creating a root and an intermediate there on first use. */
export async function openCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const clock = options.clock ?? Date.now
  if (await isMissingOrEmpty(options.dir)) {
    // false means another process created it first: read theirs.
    await initializeCa(options.dir, {
      names: options.names ?? {},
      now: clock(),
      passphrase: options.passphrase,
    })
  }
  const state = await loadCa(options.dir, options.passphrase)
  return new CertificateAuthority(options, clock, state)
}

async function isMissingOrEmpty(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw ioError(`cannot read ${dir}`, err)
  }
}

/** Strata's device CA: a root (possibly offline) and an intermediate that signs. */
export class CertificateAuthority {
  readonly #options: CertificateAuthorityOptions
  readonly #clock: () => number
  #state: CaState

  /** @internal Use `openCertificateAuthority`. */
  constructor(options: CertificateAuthorityOptions, clock: () => number, state: CaState) {
    this.#options = options
    this.#clock = clock
    this.#state = state
  }

  /** What the CA folder holds. */
  get info(): CaInfo {
    const s = this.#state
    return {
      dir: this.#options.dir,
      root: summary(s.root.cert),
      intermediate: summary(s.current.cert),
      previousIntermediate: s.previous === undefined ? undefined : summary(s.previous.cert),
      rootKeyPresent: s.rootKey !== undefined,
      keysEncrypted: s.current.keyEncrypted,
    }
  }

  /** Issues a device certificate for the key in a CSR (see `DeviceCertificateRequest`). */
  async issueDeviceCertificate(
    request: DeviceCertificateRequest,
  ): Promise<IssuedDeviceCertificate> {
    const now = this.#clock()
    return issueDeviceCertificate(this.#signer(now), this.#state.root.pem, request, now)
  }

  /** Issues a certificate and key for the node's own TLS listeners. */
  async issueServerCertificate(
    request: ServerCertificateRequest,
  ): Promise<IssuedServerCertificate> {
    const now = this.#clock()
    return issueServerCertificate(this.#signer(now), this.#state.root.pem, request, now)
  }

  /** Verifies a device certificate against this CA at `now` and returns whom it names. */
  async verifyDeviceCertificate(
    certificate: CertificateInput,
    now: number = this.#clock(),
  ): Promise<DeviceIdentity> {
    return verifyDeviceCertificate(this.#liveGenerations(now), certificate, now)
  }

  /** Signs the CRLs listing `revoked`, with nextUpdate `options.nextUpdateMs` from now. */
  async createCrl(revoked: readonly RevokedCertificate[], options: CrlOptions): Promise<IssuedCrl> {
    const { nextUpdateMs } = options
    if (!Number.isInteger(nextUpdateMs) || nextUpdateMs < 60_000 || nextUpdateMs > maxCrlPeriodMs) {
      throw new IdentityError(
        'CLOUD_ISSUE_INVALID',
        `nextUpdateMs ${String(nextUpdateMs)} is out of range`,
        {
          hint: 'Give a CRL period from 60000 ms (1 minute) to 366 days.',
          details: { field: 'nextUpdateMs' },
        },
      )
    }
    const now = this.#clock()
    const crls = []
    for (const generation of this.#liveGenerations(now)) {
      crls.push(await signCrl(generation, revoked, now, now + nextUpdateMs))
    }
    const [current] = crls
    if (current === undefined) throw this.#expired()
    return {
      crlPem: toPem(current),
      tlsCrlPems: [...crls.map(toPem), this.#state.rootCrlPem],
      thisUpdate: current.thisUpdate.getTime(),
      nextUpdate: current.nextUpdate?.getTime() ?? now + nextUpdateMs,
      revokedCount: current.entries.length,
    }
  }

  /** The intermediate then the root certificate, PEM: what devices need to trust this node. */
  caChainPem(): string {
    return this.#state.current.pem + this.#state.root.pem
  }

  /**
   * The certificates for `ca:` in `tls.createServer` when verifying device certificates: the root
   * and every live intermediate, so a device that sends only its own certificate still verifies.
   */
  trustAnchorsPem(): string {
    const intermediates = this.#liveGenerations(this.#clock()).map((g) => g.pem)
    return [this.#state.root.pem, ...intermediates].join('')
  }

  /**
   * Replaces the intermediate with a new one signed by the root, which needs root.key in the CA
   * folder. The old intermediate is kept as intermediate-previous.* so certificates it issued
   * keep verifying and can still be revoked.
   */
  async renewIntermediate(): Promise<CaInfo> {
    const { rootKey, root, current } = this.#state
    const dir = this.#options.dir
    if (rootKey === undefined) {
      throw new IdentityError(
        'CLOUD_CA_UNAVAILABLE',
        `renewing the intermediate needs ${caFiles.rootKey}, which is not in ${dir}`,
        {
          hint: `Copy ${caFiles.rootKey} back from offline storage into ${dir}, renew, then move it out again.`,
          details: { file: caFiles.rootKey },
        },
      )
    }
    const now = this.#clock()
    const rootSigner = { cert: root.cert, pem: root.pem, signingKey: await toSigningKey(rootKey) }
    const next = await createIntermediate(rootSigner, this.#options.names ?? {}, now)
    const rootCrlPem = await createRootCrl(rootSigner, now, next.cert.notAfter.getTime())
    const pass = this.#options.passphrase
    const currentKeyPem = exportPrivateKeyPem(current.key, pass)
    await writeFileAtomic(dir, caFiles.previousKey, currentKeyPem, keyFileMode)
    await writeFileAtomic(dir, caFiles.previousCert, current.pem, publicFileMode)
    await writeFileAtomic(
      dir,
      caFiles.intermediateKey,
      exportPrivateKeyPem(next.key, pass),
      keyFileMode,
    )
    await writeFileAtomic(dir, caFiles.intermediateCert, toPem(next.cert), publicFileMode)
    await writeFileAtomic(dir, caFiles.rootCrl, rootCrlPem, publicFileMode)
    this.#state = await loadCa(dir, pass)
    return this.info
  }

  /** The current intermediate, unless it has expired. */
  #signer(now: number): CaGeneration {
    const current = this.#state.current
    if (now >= current.cert.notAfter.getTime()) throw this.#expired()
    return current
  }

  /** The intermediates whose certificates can still be valid at `now`, current first. */
  #liveGenerations(now: number): CaGeneration[] {
    const { current, previous } = this.#state
    return [current, ...(previous === undefined ? [] : [previous])].filter(
      (g) => now < g.cert.notAfter.getTime(),
    )
  }

  #expired(): IdentityError {
    return new IdentityError(
      'CLOUD_CA_UNAVAILABLE',
      `the intermediate in ${this.#options.dir} has expired`,
      {
        hint: 'Renew the intermediate (it needs the root key) before issuing or revoking.',
      },
    )
  }
}

function summary(cert: X509Certificate): CaCertificateInfo {
  return {
    subject: cert.subject,
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    fingerprintSha256: fingerprintOf(cert),
  }
}
