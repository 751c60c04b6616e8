export {
  decodeSignedManifestCbor,
  decodeSignedManifestJson,
  encodeSignedManifestCbor,
  encodeSignedManifestJson,
  maxEnvelopeBytes,
  maxSignatures,
  SignedManifestJson,
  type ManifestSignature,
  type SignedManifest,
} from './envelope.js'
export {
  exportPrivateKeyPem,
  exportPublicKeyPem,
  exportPublicKeyRaw,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  keyIdOf,
  type SigningKey,
} from './keys.js'
export { FirmwareDelta, FirmwareImage, FirmwareManifest, validateManifest } from './manifest.js'
export { compareSemver, isSemver, SemVer } from './semver.js'
export { manifestSignatureContext, signManifest } from './sign-manifest.js'
export { verifyImage, type VerifyImageOptions } from './verify-image.js'
export {
  verifyManifest,
  type DeviceFirmwareState,
  type VerifyManifestPolicy,
} from './verify-manifest.js'
