/**
 * Device identity for the cloud part: Strata's CA in a folder, device certificates from CSRs,
 * the node's own TLS server certificates, reading and verifying presented device certificates,
 * CRLs, and the trust bundle for TLS listeners. The folder layout and certificate profiles are in
 * docs/formats/ca-layout.md.
 *
 * @module
 */

/**
 * Opens (and on first use creates) the CA in a folder; the returned `CertificateAuthority` issues
 * device and server certificates, verifies device certificates, signs CRLs and gives the trust
 * bundle for TLS listeners.
 *
 * @example
 * const ca = await openCertificateAuthority({ dir: join(dataDir, 'ca'), passphrase })
 * const issued = await ca.issueDeviceCertificate({ csrPem, tenantId: 'acme', deviceId: 'pump-7' })
 * const server = await ca.issueServerCertificate({ hostnames: ['mqtt.example.com', '10.0.0.7'] })
 * const crl = await ca.createCrl(revoked, { nextUpdateMs: 24 * 3_600_000 })
 * tls.createServer({
 *   key: server.keyPem,
 *   cert: server.certificatePem + server.chainPem[0],
 *   ca: ca.trustAnchorsPem(),
 *   crl: crl.tlsCrlPems,
 *   requestCert: true,
 *   rejectUnauthorized: true,
 * })
 */
export {
  openCertificateAuthority,
  type CertificateAuthority,
  type CertificateAuthorityOptions,
  type CaInfo,
  type CaCertificateInfo,
  type CrlOptions,
  type IssuedCrl,
} from './certificate-authority.js'
/**
 * Names given to a CA when it is created.
 *
 * @example
 * await openCertificateAuthority({ dir, names: { organization: 'Acme', root: 'Acme Device Root' } })
 */
export type { CaNames } from './ca-bootstrap.js'
/**
 * What `issueDeviceCertificate` takes and returns.
 *
 * @example
 * const { certificatePem, chainPem, serialNumber } = await ca.issueDeviceCertificate({
 *   csrPem, tenantId: 'acme', deviceId: 'pump-7', validityDays: 90,
 * })
 */
export type { DeviceCertificateRequest, IssuedDeviceCertificate } from './device-certificate.js'
/**
 * What every issued certificate returns.
 *
 * @example
 * const { certificatePem, chainPem: [intermediatePem] } = issued
 * const certForTls = certificatePem + intermediatePem
 */
export type { IssuedCertificate } from './leaf-certificate.js'
/**
 * The device a certificate names. `deviceIdentityFromCertificate` reads it from a peer TLS
 * already verified; `ca.verifyDeviceCertificate` also checks chain and dates.
 *
 * @example
 * server.on('secureConnection', (socket) => {
 *   if (!socket.authorized) return socket.destroy()
 *   const { tenantId, deviceId, serialNumber } = deviceIdentityFromCertificate(socket.getPeerCertificate())
 * })
 */
export { deviceIdentityFromCertificate, type DeviceIdentity } from './device-identity.js'
/**
 * A certificate as callers hold it: node's `PeerCertificate`, PEM text or DER bytes.
 *
 * @example
 * await ca.verifyDeviceCertificate(request.headers['x-client-cert-pem'] as string)
 */
export type { CertificateInput } from './certificate-input.js'
/**
 * Server certificates for the node's listeners, and when to renew any certificate.
 *
 * @example
 * if (certificateNeedsRenewal(current.certificatePem, Date.now())) {
 *   current = await ca.issueServerCertificate({ hostnames })
 * }
 */
export {
  certificateNeedsRenewal,
  type IssuedServerCertificate,
  type ServerCertificateRequest,
} from './server-certificate.js'
/**
 * A revoked certificate, as passed to `createCrl`.
 *
 * @example
 * await ca.createCrl([{ serialNumber, revokedAt: Date.now(), reason: 'keyCompromise' }], {
 *   nextUpdateMs: 86_400_000,
 * })
 */
export type { RevocationReason, RevokedCertificate } from './crl.js'
/**
 * The module's errors and their registry (documented in docs/errors.md).
 *
 * @example
 * try {
 *   await ca.issueDeviceCertificate(request)
 * } catch (err) {
 *   if (err instanceof IdentityError && err.code === 'CLOUD_CSR_INVALID') reply(400, err)
 *   else throw err
 * }
 */
export { IdentityError, identityErrorCodes, type IdentityErrorCode } from './identity-error.js'
