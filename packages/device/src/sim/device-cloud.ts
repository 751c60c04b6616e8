import type { IPublishPacket } from 'mqtt-packet'
import {
  CommandRequest,
  TwinDesiredDelta,
  decodeDocument,
  decoder,
  parseTopicName,
} from '@strata/protocol'
import { startFirmware, type FirmwareRequest } from './device-firmware.js'
import { requestReboot } from './device-power.js'
import { publishControl } from './device-telemetry.js'
import type { SimDevice } from './sim-device.js'

const decodeCommand = decoder(CommandRequest)
const decodeDesired = decoder(TwinDesiredDelta)

/**
 * A message from the cloud (docs/protocol.md §6): a command is answered, a desired `reportEveryS`
 * applied and reported back, a firmware offer followed, an error counted. Every one counts in
 * `received`, including those the broker kept while the device slept.
 */
export function handleCloudMessage(d: SimDevice, packet: IPublishPacket, now: number): void {
  d.received++
  d.ctx.counters.add('received')
  const topic = parseTopicName(packet.topic)
  if (topic?.owner !== d.id) {
    d.recordError('UNEXPECTED_TOPIC', `a message on ${packet.topic}`, now)
    return
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  let body: unknown
  try {
    // The cloud sends JSON unless the device's profile asks for CBOR: a JSON object starts with '{'.
    body =
      payload.length === 0 ? {} : decodeDocument(payload, payload[0] === 0x7b ? 'json' : 'cbor')
  } catch (err) {
    d.recordError('CLOUD_PAYLOAD_INVALID', err instanceof Error ? err.message : String(err), now)
    return
  }
  switch (topic.kind) {
    case 'command.request':
      answerCommand(d, topic.param ?? '', body, packet, now)
      return
    case 'twin.desired':
      applyDesired(d, body, now)
      return
    case 'firmware.offer':
      followOffer(d, body, now)
      return
    case 'errors': {
      const code = (body as { error?: { code?: unknown } }).error?.code
      const message = (body as { error?: { message?: unknown } }).error?.message
      d.recordError(
        `CLOUD_${typeof code === 'string' ? code : 'ERROR'}`,
        typeof message === 'string' ? message : 'the cloud refused a message',
        now,
      )
      return
    }
    default:
      d.recordError('UNEXPECTED_TOPIC', `a message on ${packet.topic}`, now)
  }
}

function answerCommand(
  d: SimDevice,
  name: string,
  body: unknown,
  packet: IPublishPacket,
  now: number,
): void {
  let command: CommandRequest
  try {
    command = decodeCommand(body, 'command')
  } catch (err) {
    d.recordError('COMMAND_INVALID', err instanceof Error ? err.message : String(err), now)
    return
  }
  const uptimeS = Math.round((now - d.bootedAt) / 1000)
  let answer: Record<string, unknown>
  let reboot = false
  if (command.expiresAt !== undefined && command.expiresAt < d.deviceTime(now)) {
    answer = failed('COMMAND_EXPIRED', `command ${command.id} expired before it arrived`)
  } else if (name === 'ping') {
    answer = { status: 'succeeded', result: { uptimeS, firmware: runningVersion(d) } }
  } else if (name === 'reboot') {
    answer = { status: 'succeeded', result: { uptimeS } }
    reboot = true
  } else {
    answer = failed('UNKNOWN_COMMAND', `the simulated device does not know the command ${name}`)
  }
  // MQTT 5: answer on the response topic with the correlation data; 3.1.1: commands/response/{id}.
  const responseTopic = packet.properties?.responseTopic
  const correlationData = packet.properties?.correlationData
  if (responseTopic !== undefined) {
    publishControl(d, responseTopic, answer, {
      absolute: true,
      ...(correlationData === undefined ? {} : { properties: { correlationData } }),
    })
  } else {
    publishControl(d, `commands/response/${command.id}`, answer)
  }
  d.commandsAnswered++
  d.ctx.counters.add('commandsAnswered')
  if (reboot) requestReboot(d, now)
}

function failed(code: string, message: string): Record<string, unknown> {
  return { status: 'failed', error: { code, message } }
}

function runningVersion(d: SimDevice): string {
  const running = d.boot.running
  return running === null ? 'none' : (d.boot.control.slots[running].image?.version ?? 'none')
}

/** `{"version": 8, "desired": {"reportEveryS": 30}}`: apply the period and report it back. */
function applyDesired(d: SimDevice, body: unknown, now: number): void {
  let delta: TwinDesiredDelta
  try {
    delta = decodeDesired(body, 'twin/desired')
  } catch (err) {
    d.recordError('TWIN_INVALID', err instanceof Error ? err.message : String(err), now)
    return
  }
  const wanted = delta.desired['reportEveryS']
  if (typeof wanted !== 'number' || !(wanted >= 0.05 && wanted <= 86_400)) return
  d.reportEveryMs = wanted * 1000
  if (d.reportAt !== Number.POSITIVE_INFINITY)
    d.reportAt = Math.min(d.reportAt, now + d.reportEveryMs)
  publishControl(d, 'twin/reported', { reportEveryS: wanted })
}

/**
 * A firmware offer: the simulator reads the offer id and the manifest's version and security
 * version, and follows the update as a device that confirms its new image. It verifies no
 * signature (it holds no keys); anti-rollback is the bootloader's.
 */
function followOffer(d: SimDevice, body: unknown, now: number): void {
  if (!d.ctx.profile.firmware.acceptOffers) return
  const request = readOffer(body)
  if (request === undefined) {
    const offerId = (body as { offerId?: unknown }).offerId
    publishControl(d, 'firmware/progress', {
      ...(typeof offerId === 'string' ? { offerId } : {}),
      state: 'rejected',
      error: {
        code: 'OFFER_UNREADABLE',
        message: 'no manifest version and securityVersion in the offer',
      },
    })
    d.recordError('OFFER_UNREADABLE', 'a firmware offer without a readable manifest', now)
    return
  }
  startFirmware(d, request, now)
}

function readOffer(body: unknown): FirmwareRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const offer = body as Record<string, unknown>
  const offerId = typeof offer['offerId'] === 'string' ? offer['offerId'] : undefined
  for (const candidate of [offer['manifest'], nested(offer['envelope'], 'manifest'), offer]) {
    const manifest = typeof candidate === 'string' ? tryJson(candidate) : candidate
    if (typeof manifest !== 'object' || manifest === null) continue
    const m = manifest as Record<string, unknown>
    const image = nested(m, 'image') as Record<string, unknown> | undefined
    const size = image?.['size']
    if (typeof m['version'] === 'string' && Number.isInteger(m['securityVersion'])) {
      return {
        version: m['version'],
        securityVersion: m['securityVersion'] as number,
        confirms: true,
        ...(offerId === undefined ? {} : { offerId }),
        ...(typeof size === 'number' && size > 0 ? { imageBytes: size } : {}),
      }
    }
  }
  return undefined
}

function nested(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
