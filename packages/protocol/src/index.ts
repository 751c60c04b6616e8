/**
 * @strata/protocol — the Strata device protocol v1, shared by every layer: the topic tree and
 * who may use which topic, payload codecs (JSON, CBOR, InfluxDB line protocol) with their
 * schemas, and signed firmware manifests. Documented for device authors in docs/protocol.md.
 */
export { StrataError, isStrataError, type StrataErrorOptions } from './errors/strata-error.js'
export {
  ProtocolError,
  protocolErrorCodes,
  type ProtocolErrorCode,
} from './errors/protocol-error.js'

export { decoder, type Decoder } from './schema/decoder.js'
export { DeviceId, Name, deviceIdPattern, isDeviceId, isName, namePattern } from './schema/names.js'

export {
  checkTopic,
  defaultTopicLimits,
  parseSharedFilter,
  parseTopic,
  topicMatches,
  type TopicCheck,
  type TopicLimits,
} from './topics/topic-name.js'
export {
  deviceTopics,
  parseTopicName,
  provisioningTopics,
  topicRoot,
  topicTemplates,
  type ParsedTopic,
  type PayloadFormat,
  type TopicDirection,
  type TopicKind,
  type TopicTemplate,
} from './topics/topic-tree.js'
export {
  authorizePublish,
  authorizeSubscribe,
  type TopicDecision,
  type TopicIdentity,
} from './topics/authorize.js'

export { decodeUtf8 } from './codec/utf8.js'
export { defaultJsonParseOptions, parseJson, type JsonParseOptions } from './codec/json/index.js'
export {
  decodeCbor,
  defaultCborDecodeOptions,
  encodeCbor,
  type CborDecodeOptions,
  type CborEncodeOptions,
  type CborMap,
  type CborValue,
} from './codec/cbor/index.js'
export {
  defaultLineParseOptions,
  formatLineProtocol,
  parseLineProtocol,
  type LineFieldValue,
  type LineParseOptions,
  type LinePoint,
  type LinePrecision,
} from './codec/line-protocol/index.js'

export {
  EpochMs,
  TelemetryRecord,
  TelemetryTags,
  TelemetryValue,
  TelemetryValues,
  telemetryLimits,
} from './telemetry/telemetry-schema.js'
export { normalizeTelemetry } from './telemetry/normalize-telemetry.js'
export {
  decodeTelemetry,
  encodeTelemetry,
  type TelemetryCodecOptions,
} from './telemetry/telemetry-codec.js'

export {
  CertificateRequest,
  CommandRequest,
  CommandResponse,
  DeviceEvent,
  FirmwareGet,
  FirmwareProgress,
  FirmwareState,
  ProvisioningRequest,
  ProvisioningResponse,
  TwinDesiredDelta,
  TwinDocument,
  TwinGetRequest,
  TwinRejected,
  TwinReportedPatch,
  documentLimits,
} from './messages/message-schemas.js'
export {
  decodeDeviceMessage,
  decodeDocument,
  type DeviceMessage,
  type UpKind,
} from './messages/decode-message.js'
export {
  applyMergePatch,
  isJsonObject,
  mergeDocument,
  type JsonObject,
} from './messages/merge-patch.js'

export {
  FirmwareDelta,
  FirmwareImage,
  FirmwareManifest,
  SemVer,
  SignedManifestJson,
  compareSemver,
  decodeSignedManifestCbor,
  decodeSignedManifestJson,
  encodeSignedManifestCbor,
  encodeSignedManifestJson,
  exportPrivateKeyPem,
  exportPublicKeyPem,
  exportPublicKeyRaw,
  generateSigningKey,
  importPrivateKey,
  importPublicKey,
  isSemver,
  keyIdOf,
  manifestSignatureContext,
  maxEnvelopeBytes,
  maxSignatures,
  signManifest,
  validateManifest,
  verifyImage,
  verifyManifest,
  type DeviceFirmwareState,
  type ManifestSignature,
  type SignedManifest,
  type SigningKey,
  type VerifyImageOptions,
  type VerifyManifestPolicy,
} from './firmware/index.js'
