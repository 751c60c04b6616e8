// The one place the identity module loads @peculiar/x509. Its decorators need
// `reflect-metadata` loaded before it, and it signs with whatever WebCrypto its provider holds:
// node's own, so keys never leave node:crypto and nothing else (no node-forge) is involved.
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import { cryptoProvider } from '@peculiar/x509'

/** Node's WebCrypto, passed explicitly to every @peculiar/x509 call that takes one. */
export const nodeCrypto: webcrypto.Crypto = webcrypto

// The library falls back to its provider where a call has no crypto argument (e.g. inside
// chain building); set it once so that fallback is node's WebCrypto too.
cryptoProvider.set(nodeCrypto)

export {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  PemConverter,
  Pkcs10CertificateRequest,
  PublicKey,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
  X509Crl,
  X509CrlGenerator,
  X509CrlReason,
  type JsonGeneralName,
} from '@peculiar/x509'
