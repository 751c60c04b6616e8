import Type, { type Static } from 'typebox'
import { Name, namePattern } from '../schema/names.js'
import { EpochMs } from '../telemetry/telemetry-schema.js'

/** Limits on the JSON-like documents devices exchange (twin, events, command params). */
export const documentLimits = { maxBytes: 65_536, maxDepth: 16 } as const

/** A JSON object whose keys follow the name rule; its values are any JSON. */
const Document = Type.Record(Type.String({ pattern: namePattern }), Type.Unknown(), {
  additionalProperties: false,
})

/** Correlates a request with its reply on another topic; chosen by the device. */
const RequestId = Type.String({ minLength: 1, maxLength: 64 })

const ErrorBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 64 }), message: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false },
)

/** `events/{name}`, up: something that happened, as opposed to a measurement. */
export const DeviceEvent = Type.Object(
  {
    ts: Type.Optional(EpochMs),
    severity: Type.Optional(
      Type.Union([
        Type.Literal('info'),
        Type.Literal('warning'),
        Type.Literal('error'),
        Type.Literal('critical'),
      ]),
    ),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
    data: Type.Optional(Document),
  },
  { additionalProperties: false },
)
export type DeviceEvent = Static<typeof DeviceEvent>

/** `twin/reported`, up: a JSON merge patch (RFC 7396) of the reported state; null deletes. */
export const TwinReportedPatch = Document
export type TwinReportedPatch = Static<typeof TwinReportedPatch>

/** `twin/get`, up: asks for the whole twin on `twin/document`. The payload may be empty. */
export const TwinGetRequest = Type.Object(
  { requestId: Type.Optional(RequestId) },
  { additionalProperties: false },
)
export type TwinGetRequest = Static<typeof TwinGetRequest>

/** `twin/document`, down: the whole twin, in reply to `twin/get`. */
export const TwinDocument = Type.Object(
  {
    requestId: Type.Optional(RequestId),
    version: Type.Integer({ minimum: 0 }),
    desired: Document,
    reported: Document,
  },
  { additionalProperties: false },
)
export type TwinDocument = Static<typeof TwinDocument>

/** `twin/desired`, down: what changed in the desired state since the device last heard. */
export const TwinDesiredDelta = Type.Object(
  { version: Type.Integer({ minimum: 0 }), desired: Document },
  { additionalProperties: false },
)
export type TwinDesiredDelta = Static<typeof TwinDesiredDelta>

/** `twin/rejected`, down: why a `twin/reported` or `twin/get` was refused. */
export const TwinRejected = Type.Object(
  { requestId: Type.Optional(RequestId), error: ErrorBody },
  { additionalProperties: false },
)
export type TwinRejected = Static<typeof TwinRejected>

/** `commands/request/{name}`, down. The reply goes to `commands/response/{id}`. */
export const CommandRequest = Type.Object(
  { id: Name, params: Type.Optional(Document), expiresAt: Type.Optional(EpochMs) },
  { additionalProperties: false },
)
export type CommandRequest = Static<typeof CommandRequest>

/** `commands/response/{id}`, up. */
export const CommandResponse = Type.Object(
  {
    status: Type.Union([
      Type.Literal('succeeded'),
      Type.Literal('failed'),
      Type.Literal('accepted'),
    ]),
    result: Type.Optional(Document),
    error: Type.Optional(ErrorBody),
  },
  { additionalProperties: false },
)
export type CommandResponse = Static<typeof CommandResponse>

/** The states a device reports while it follows a firmware offer. */
export const FirmwareState = Type.Union([
  Type.Literal('offered'),
  Type.Literal('downloading'),
  Type.Literal('downloaded'),
  Type.Literal('verifying'),
  Type.Literal('installing'),
  Type.Literal('rebooting'),
  Type.Literal('confirmed'),
  Type.Literal('failed'),
  Type.Literal('rolled-back'),
  Type.Literal('rejected'),
])
export type FirmwareState = Static<typeof FirmwareState>

/** `firmware/progress`, up. */
export const FirmwareProgress = Type.Object(
  {
    offerId: Type.Optional(Name),
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    state: FirmwareState,
    percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    error: Type.Optional(ErrorBody),
  },
  { additionalProperties: false },
)
export type FirmwareProgress = Static<typeof FirmwareProgress>

/** `firmware/get`, up: asks the cloud to resend the pending offer, if any. May be empty. */
export const FirmwareGet = Type.Object(
  { requestId: Type.Optional(RequestId) },
  { additionalProperties: false },
)
export type FirmwareGet = Static<typeof FirmwareGet>

/** `provisioning/{clientId}/request`, up: a CSR (PEM, PKCS#10) for the key the device generated. */
export const ProvisioningRequest = Type.Object(
  {
    csr: Type.String({
      minLength: 64,
      maxLength: 8192,
      pattern: '^-----BEGIN CERTIFICATE REQUEST-----',
    }),
    serial: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    attributes: Type.Optional(
      Type.Record(Type.String({ pattern: namePattern }), Type.String({ maxLength: 256 }), {
        additionalProperties: false,
        maxProperties: 32,
      }),
    ),
  },
  { additionalProperties: false },
)
export type ProvisioningRequest = Static<typeof ProvisioningRequest>

/** `provisioning/{clientId}/response`, down. */
export const ProvisioningResponse = Type.Union([
  Type.Object(
    {
      status: Type.Literal('ok'),
      deviceId: Type.String(),
      certificate: Type.String(),
      caChain: Type.Array(Type.String()),
    },
    { additionalProperties: false },
  ),
  Type.Object({ status: Type.Literal('error'), error: ErrorBody }, { additionalProperties: false }),
])
export type ProvisioningResponse = Static<typeof ProvisioningResponse>

/**
 * `certificate/request`, up: a device renews its certificate before it expires with a CSR for a
 * new key (or the same one); the reply comes on `certificate/response`.
 */
export const CertificateRequest = Type.Object(
  {
    csr: Type.String({
      minLength: 64,
      maxLength: 8192,
      pattern: '^-----BEGIN CERTIFICATE REQUEST-----',
    }),
    requestId: Type.Optional(RequestId),
  },
  { additionalProperties: false },
)
export type CertificateRequest = Static<typeof CertificateRequest>
