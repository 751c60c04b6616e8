import { isDeviceId, isName } from '../schema/names.js'

/** The first two levels of every Strata topic; the version changes only with the protocol's. */
export const topicRoot = 'strata/v1'

/** Who publishes on a topic: `up` the device (or its gateway), `down` the cloud. */
export type TopicDirection = 'up' | 'down'

/** Payload encodings a device may name with a topic's last level. Without one, JSON. */
export type PayloadFormat = 'json' | 'cbor' | 'lp'

/** Every kind of topic in a device's or a provisioning client's namespace. */
export type TopicKind =
  | 'telemetry'
  | 'event'
  | 'twin.reported'
  | 'twin.get'
  | 'twin.desired'
  | 'twin.document'
  | 'twin.rejected'
  | 'command.request'
  | 'command.response'
  | 'firmware.offer'
  | 'firmware.progress'
  | 'firmware.get'
  | 'errors'
  | 'certificate.request'
  | 'certificate.response'
  | 'provisioning.request'
  | 'provisioning.response'

/** One row of the topic tree: levels after the namespace, `{param}` for a named level. */
export interface TopicTemplate {
  readonly kind: TopicKind
  readonly namespace: 'devices' | 'provisioning'
  readonly direction: TopicDirection
  readonly levels: readonly string[]
  /** Encodings an `up` topic accepts as an optional last level. */
  readonly formats: readonly PayloadFormat[]
}

const up = (kind: TopicKind, levels: string[], formats: PayloadFormat[] = ['json', 'cbor']) =>
  ({ kind, namespace: 'devices', direction: 'up', levels, formats }) as const
const down = (kind: TopicKind, levels: string[]) =>
  ({ kind, namespace: 'devices', direction: 'down', levels, formats: [] }) as const

/**
 * The topic tree of protocol v1, below `strata/v1/devices/{deviceId}/` and
 * `strata/v1/provisioning/{clientId}/`. `docs/protocol.md` documents each row; a test checks
 * that the two agree.
 */
export const topicTemplates: readonly TopicTemplate[] = [
  up('telemetry', ['telemetry'], ['json', 'cbor', 'lp']),
  up('event', ['events', '{name}']),
  up('twin.reported', ['twin', 'reported']),
  up('twin.get', ['twin', 'get']),
  down('twin.desired', ['twin', 'desired']),
  down('twin.document', ['twin', 'document']),
  down('twin.rejected', ['twin', 'rejected']),
  down('command.request', ['commands', 'request', '{name}']),
  up('command.response', ['commands', 'response', '{id}']),
  down('firmware.offer', ['firmware', 'offer']),
  up('firmware.progress', ['firmware', 'progress']),
  up('firmware.get', ['firmware', 'get']),
  down('errors', ['errors']),
  up('certificate.request', ['certificate', 'request']),
  down('certificate.response', ['certificate', 'response']),
  {
    kind: 'provisioning.request',
    namespace: 'provisioning',
    direction: 'up',
    levels: ['request'],
    formats: ['json', 'cbor'],
  },
  {
    kind: 'provisioning.response',
    namespace: 'provisioning',
    direction: 'down',
    levels: ['response'],
    formats: [],
  },
]

/** A topic name resolved against the tree. */
export interface ParsedTopic {
  readonly kind: TopicKind
  readonly namespace: 'devices' | 'provisioning'
  readonly direction: TopicDirection
  /** The device id, or the provisioning client id. */
  readonly owner: string
  /** The `{name}` or `{id}` level, when the template has one. */
  readonly param?: string
  readonly format: PayloadFormat
}

const formatNames: ReadonlySet<string> = new Set(['json', 'cbor', 'lp'])

/**
 * Resolves a topic name (no wildcards) to its kind, owner and payload format, or undefined when
 * it is not a topic of the tree.
 *
 * @example
 * parseTopicName('strata/v1/devices/pump-7/telemetry/cbor')
 * // { kind: 'telemetry', namespace: 'devices', direction: 'up', owner: 'pump-7', format: 'cbor' }
 */
export function parseTopicName(topic: string): ParsedTopic | undefined {
  const levels = topic.split('/')
  if (levels[0] !== 'strata' || levels[1] !== 'v1') return undefined
  const namespace = levels[2]
  const owner = levels[3]
  if ((namespace !== 'devices' && namespace !== 'provisioning') || owner === undefined)
    return undefined
  if (!isDeviceId(owner)) return undefined
  const rest = levels.slice(4)
  for (const template of topicTemplates) {
    if (template.namespace !== namespace) continue
    const match = matchTemplate(template, rest)
    if (match !== undefined) return { ...match, namespace, owner }
  }
  return undefined
}

function matchTemplate(
  template: TopicTemplate,
  rest: readonly string[],
): Omit<ParsedTopic, 'namespace' | 'owner'> | undefined {
  let format: PayloadFormat = 'json'
  let levels = rest
  const last = rest[rest.length - 1]
  if (rest.length === template.levels.length + 1 && last !== undefined && formatNames.has(last)) {
    if (!template.formats.includes(last as PayloadFormat)) return undefined
    format = last as PayloadFormat
    levels = rest.slice(0, -1)
  }
  if (levels.length !== template.levels.length) return undefined
  let param: string | undefined
  for (let i = 0; i < levels.length; i++) {
    const want = template.levels[i] ?? ''
    const got = levels[i] ?? ''
    if (want.startsWith('{')) {
      if (!isName(got)) return undefined
      param = got
    } else if (want !== got) {
      return undefined
    }
  }
  const base = { kind: template.kind, direction: template.direction, format }
  return param === undefined ? base : { ...base, param }
}

/**
 * Builds the topics of one device, for SDKs, the cloud and the docs.
 *
 * @example
 * deviceTopics('pump-7').telemetry('cbor') // 'strata/v1/devices/pump-7/telemetry/cbor'
 */
export function deviceTopics(deviceId: string) {
  const base = `${topicRoot}/devices/${deviceId}`
  const withFormat = (topic: string, format: PayloadFormat | undefined) =>
    format === undefined || format === 'json' ? topic : `${topic}/${format}`
  return {
    base,
    telemetry: (format?: PayloadFormat) => withFormat(`${base}/telemetry`, format),
    event: (name: string, format?: PayloadFormat) => withFormat(`${base}/events/${name}`, format),
    twinReported: (format?: PayloadFormat) => withFormat(`${base}/twin/reported`, format),
    twinGet: (format?: PayloadFormat) => withFormat(`${base}/twin/get`, format),
    twinDesired: `${base}/twin/desired`,
    twinDocument: `${base}/twin/document`,
    twinRejected: `${base}/twin/rejected`,
    commandRequest: (name: string) => `${base}/commands/request/${name}`,
    commandRequests: `${base}/commands/request/+`,
    commandResponse: (id: string, format?: PayloadFormat) =>
      withFormat(`${base}/commands/response/${id}`, format),
    firmwareOffer: `${base}/firmware/offer`,
    firmwareProgress: (format?: PayloadFormat) => withFormat(`${base}/firmware/progress`, format),
    firmwareGet: (format?: PayloadFormat) => withFormat(`${base}/firmware/get`, format),
    errors: `${base}/errors`,
    certificateRequest: (format?: PayloadFormat) =>
      withFormat(`${base}/certificate/request`, format),
    certificateResponse: `${base}/certificate/response`,
  }
}

/** The topics of a provisioning client, named by its MQTT client id. */
export function provisioningTopics(clientId: string) {
  const base = `${topicRoot}/provisioning/${clientId}`
  return { base, request: `${base}/request`, response: `${base}/response` }
}
