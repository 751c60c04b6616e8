import { decodeCbor } from '../codec/cbor/index.js'
import { parseJson } from '../codec/json/index.js'
import { ProtocolError } from '../errors/protocol-error.js'
import { decoder } from '../schema/decoder.js'
import { decodeTelemetry, type TelemetryCodecOptions } from '../telemetry/telemetry-codec.js'
import type { TelemetryRecord } from '../telemetry/telemetry-schema.js'
import type { PayloadFormat, TopicKind } from '../topics/topic-tree.js'
import {
  CertificateRequest,
  CommandResponse,
  DeviceEvent,
  FirmwareGet,
  FirmwareProgress,
  ProvisioningRequest,
  TwinGetRequest,
  TwinReportedPatch,
  documentLimits,
} from './message-schemas.js'

/** What a device sent, decoded and validated, tagged by the kind of topic it came on. */
export type DeviceMessage =
  | { readonly kind: 'telemetry'; readonly records: TelemetryRecord[] }
  | { readonly kind: 'event'; readonly event: DeviceEvent }
  | { readonly kind: 'twin.reported'; readonly patch: TwinReportedPatch }
  | { readonly kind: 'twin.get'; readonly request: TwinGetRequest }
  | { readonly kind: 'command.response'; readonly response: CommandResponse }
  | { readonly kind: 'firmware.progress'; readonly progress: FirmwareProgress }
  | { readonly kind: 'firmware.get'; readonly request: FirmwareGet }
  | { readonly kind: 'provisioning.request'; readonly request: ProvisioningRequest }
  | { readonly kind: 'certificate.request'; readonly request: CertificateRequest }

/** The topic kinds a device publishes on, whose payloads {@link decodeDeviceMessage} decodes. */
export type UpKind = DeviceMessage['kind']

const decoders = {
  event: decoder(DeviceEvent),
  'twin.reported': decoder(TwinReportedPatch),
  'twin.get': decoder(TwinGetRequest),
  'command.response': decoder(CommandResponse),
  'firmware.progress': decoder(FirmwareProgress),
  'firmware.get': decoder(FirmwareGet),
  'provisioning.request': decoder(ProvisioningRequest),
  'certificate.request': decoder(CertificateRequest),
}

/** Kinds whose payload may be empty: a request with nothing to say. */
const emptyAllowed: ReadonlySet<TopicKind> = new Set(['twin.get', 'firmware.get'])

/**
 * Decodes the payload of a message a device published, by the kind and format its topic named.
 *
 * @example
 * const topic = parseTopicName('strata/v1/devices/pump-7/telemetry')!
 * decodeDeviceMessage(topic.kind, topic.format, payload)
 */
export function decodeDeviceMessage(
  kind: TopicKind,
  format: PayloadFormat,
  payload: Uint8Array,
  options: TelemetryCodecOptions = {},
): DeviceMessage {
  if (kind === 'telemetry') return { kind, records: decodeTelemetry(payload, format, options) }
  if (!isUpKind(kind)) {
    throw new ProtocolError(
      'PROTOCOL_UNSUPPORTED',
      `${kind} messages are sent by the cloud, not decoded from devices`,
    )
  }
  if (format === 'lp')
    throw new ProtocolError(
      'PROTOCOL_UNSUPPORTED',
      `${kind} payloads are JSON or CBOR, not line protocol`,
    )
  const value =
    payload.length === 0 && emptyAllowed.has(kind) ? {} : decodeDocument(payload, format)
  const what = `${kind} payload`
  switch (kind) {
    case 'event':
      return { kind, event: decoders[kind](value, what) }
    case 'twin.reported':
      return { kind, patch: decoders[kind](value, what) }
    case 'command.response':
      return { kind, response: decoders[kind](value, what) }
    case 'firmware.progress':
      return { kind, progress: decoders[kind](value, what) }
    case 'twin.get':
    case 'firmware.get':
    case 'provisioning.request':
    case 'certificate.request':
      return { kind, request: decoders[kind](value, what) } as DeviceMessage
  }
}

function isUpKind(kind: TopicKind): kind is Exclude<UpKind, 'telemetry'> {
  return Object.hasOwn(decoders, kind)
}

/**
 * Decodes a JSON-like document (twin patches, events, command bodies) from JSON or CBOR with the
 * document limits. CBOR integers come back as numbers, as they would from JSON.
 */
export function decodeDocument(payload: Uint8Array, format: 'json' | 'cbor'): unknown {
  return format === 'json'
    ? parseJson(payload, documentLimits)
    : decodeCbor(payload, { ...documentLimits, integers: 'number' })
}
