import { EventEmitter } from 'node:events'
import { deviceTopics, parseTopicName } from '@strata/protocol'
import type { IPublishPacket } from 'mqtt'
import pino, { type Logger } from 'pino'
import { DeviceError } from '../errors.js'
import { CertificateRenewal } from './certificate-renewal.js'
import { decodeErrorReport } from './cloud-error-report.js'
import { cloudMessageInvalid } from './cloud-payload.js'
import { CommandDispatcher } from './command-dispatcher.js'
import type { DeviceClient, TelemetryApi } from './device-client-api.js'
import type {
  CloudErrorReport,
  DeviceClientEvents,
  DeviceClientState,
  DeviceClientStats,
} from './device-client-events.js'
import {
  resolveDeviceClientOptions,
  type DeviceClientDeps,
  type DeviceClientOptions,
  type ResolvedDeviceClientOptions,
} from './device-client-options.js'
import { closedError, DeviceConnection, type ConnectionState } from './device-connection.js'
import type { DeviceIdentity } from './device-identity.js'
import { deviceSubscriptions } from './device-subscriptions.js'
import { EventSender } from './event-sender.js'
import { FirmwareClient } from './firmware-client.js'
import { mqttClientOptions } from './mqtt-client-options.js'
import { Outbox } from './outbox.js'
import { TelemetrySender } from './telemetry-sender.js'
import { TwinClient, errorMessage } from './twin-client.js'
import { waitOnline, within } from './wait-online.js'

/**
 * Creates a device client and starts connecting (MQTT 5 by default, persistent session).
 * Options a user can get wrong throw `DEVICE_CLIENT_OPTIONS_INVALID` here.
 *
 * @example
 * const client = createDeviceClient({
 *   url: 'mqtts://strata.example:8883',
 *   deviceId: 'pump-7',
 *   credentials: { token: process.env.STRATA_TOKEN! },
 *   caPem: readFileSync('ca.pem', 'utf8'),
 * })
 * client.on('fatal', (err) => console.error(err.message, err.hint))
 * client.commands.on('reboot', async ({ params }) => ({ scheduled: true }))
 * client.telemetry.send({ temp: 21.5 })
 * await client.close()
 */
export function createDeviceClient(
  options: DeviceClientOptions,
  deps: DeviceClientDeps = {},
): DeviceClient {
  return new StrataDeviceClient(resolveDeviceClientOptions(options), deps)
}

class StrataDeviceClient extends EventEmitter<DeviceClientEvents> implements DeviceClient {
  readonly deviceId: string
  readonly telemetry: TelemetryApi
  readonly twin: TwinClient
  readonly commands: CommandDispatcher
  readonly firmware: FirmwareClient
  readonly events: EventSender
  readonly #o: ResolvedDeviceClientOptions
  readonly #log: Logger
  readonly #connection: DeviceConnection
  readonly #sender: TelemetrySender
  readonly #outbox: Outbox
  readonly #renewal: CertificateRenewal
  #cloudErrors = 0
  #closing: Promise<void> | undefined

  constructor(o: ResolvedDeviceClientOptions, deps: DeviceClientDeps) {
    super()
    this.#o = o
    this.deviceId = o.deviceId
    const clock = deps.clock ?? Date.now
    const random = deps.random ?? Math.random
    this.#log = (deps.logger ?? pino({ level: 'silent' })).child({
      component: 'device-sdk',
      deviceId: o.deviceId,
    })
    const topics = deviceTopics(o.deviceId)
    this.#connection = new DeviceConnection(
      mqttClientOptions({
        url: o.url,
        clientId: o.deviceId,
        credentials: o.credentials,
        caPem: o.caPem,
        protocolVersion: o.protocolVersion,
        sessionExpiryS: o.sessionExpiryS,
        keepAliveS: o.keepAliveS,
        connectTimeoutMs: o.connectTimeoutMs,
      }),
      {
        clock,
        random,
        log: this.#log,
        backoff: o.reconnect,
        stableAfterMs: o.stableAfterMs,
        protocolVersion: o.protocolVersion,
        subscriptions: deviceSubscriptions(o.deviceId),
      },
      {
        state: (s) => this.#onState(s),
        online: () => this.#sender.online(),
        message: (topic, payload, packet) => this.#onMessage(topic, payload, packet),
        warning: (err) => this.#warn(err),
      },
    )
    const warn = (err: DeviceError) => this.#warn(err)
    this.#outbox = new Outbox(this.#connection, o.outboxMaxMessages)
    this.#sender = new TelemetrySender(
      {
        topic: topics.telemetry(o.format),
        format: o.format,
        batchMaxRecords: o.batchMaxRecords,
        batchMaxDelayMs: o.batchMaxDelayMs,
        bufferMaxRecords: o.bufferMaxRecords,
        backoff: o.reconnect,
      },
      {
        publisher: this.#connection,
        clock,
        random,
        log: this.#log,
        onRefused: (refusal) => this.emit('refused', refusal),
        onDropped: (records) =>
          this.emit('dropped', { records, total: this.#sender.stats.dropped }),
      },
    )
    const sender = this.#sender
    this.telemetry = {
      send: (input) => sender.send(input),
      flush: (timeoutMs) => sender.flush(timeoutMs),
      get stats() {
        return sender.stats
      },
    }
    this.twin = new TwinClient({
      outbox: this.#outbox,
      topics: { reported: topics.twinReported(), get: topics.twinGet() },
      requestTimeoutMs: o.requestTimeoutMs,
      log: this.#log,
      warn,
    })
    this.commands = new CommandDispatcher({
      deviceId: o.deviceId,
      outbox: this.#outbox,
      protocolVersion: o.protocolVersion,
      responseTopic: (id) => topics.commandResponse(id),
      clock,
      log: this.#log,
      warn,
    })
    this.firmware = new FirmwareClient({
      outbox: this.#outbox,
      topics: { progress: topics.firmwareProgress(), get: topics.firmwareGet() },
      warn,
    })
    this.events = new EventSender(this.#outbox, (name) => topics.event(name), clock)
    this.#renewal = new CertificateRenewal({
      deviceId: o.deviceId,
      connection: this.#connection,
      outbox: this.#outbox,
      topics: { request: topics.certificateRequest(), response: topics.certificateResponse },
      warn,
    })
    this.#connection.start()
  }

  get state(): DeviceClientState {
    return this.#connection.state
  }

  waitOnline(timeoutMs: number = this.#o.connectTimeoutMs): Promise<void> {
    return waitOnline(this, timeoutMs)
  }

  flush(timeoutMs?: number): Promise<void> {
    return this.#sender.flush(timeoutMs)
  }

  stats(): DeviceClientStats {
    return {
      telemetry: this.#sender.stats,
      commands: this.commands.stats,
      outboxPending: this.#outbox.pending,
      cloudErrors: this.#cloudErrors,
    }
  }

  renewCertificate(options: { timeoutMs?: number } = {}): Promise<DeviceIdentity> {
    return this.#renewal.renew(options.timeoutMs ?? this.#o.requestTimeoutMs)
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async #close(): Promise<void> {
    const deadline = Date.now() + this.#o.closeTimeoutMs
    if (this.#connection.isOnline) {
      const drained = Promise.all([this.#sender.flush(), this.#outbox.idle()]).then(() => true)
      const ok = await within(drained, this.#o.closeTimeoutMs).catch(() => false)
      if (!ok)
        this.#log.warn(
          { ...this.#sender.stats, outbox: this.#outbox.pending },
          'closing before everything was acknowledged',
        )
    }
    this.#shutDown()
    await this.#connection.close(true, Math.max(0, deadline - Date.now()))
  }

  #shutDown(error?: DeviceError): void {
    const unsent = this.#sender.close(error)
    if (unsent > 0) this.#log.warn({ unsent }, 'telemetry records not acknowledged at close')
    this.twin.close(error ?? closedError(this.state))
    this.commands.close()
  }

  #onState(s: ConnectionState): void {
    this.emit('state', s)
    switch (s.status) {
      case 'connecting':
        this.emit('connecting', { attempt: s.attempt })
        break
      case 'online':
        this.emit('online', { sessionPresent: s.sessionPresent })
        break
      case 'offline':
        this.emit('offline', { reason: s.reason, retryInMs: s.retryInMs, attempt: s.attempt })
        break
      case 'closed':
        if (s.error !== undefined) {
          this.#shutDown(s.error)
          this.emit('fatal', s.error)
        }
        this.emit(
          'closed',
          s.error === undefined ? { reason: s.reason } : { reason: s.reason, error: s.error },
        )
        break
    }
  }

  #onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const parsed = parseTopicName(topic)
    if (parsed?.owner !== this.deviceId || parsed.direction !== 'down') {
      this.#log.warn({ topic }, 'message on a topic the SDK did not subscribe to')
      return
    }
    switch (parsed.kind) {
      case 'twin.desired':
      case 'twin.document':
      case 'twin.rejected':
        this.twin.handle(parsed.kind, topic, payload)
        return
      case 'command.request':
        this.commands.handle(parsed.param ?? '', topic, payload, packet)
        return
      case 'firmware.offer':
        this.firmware.handle(topic, payload)
        return
      case 'errors':
        this.#onCloudError(topic, payload)
        return
      case 'certificate.response':
        this.#renewal.handle(topic, payload)
        return
      default:
        this.#log.debug({ topic, kind: parsed.kind }, 'cloud message not handled by the SDK')
    }
  }

  #onCloudError(topic: string, payload: Uint8Array): void {
    let report: CloudErrorReport
    try {
      report = decodeErrorReport(payload, topic)
    } catch (err) {
      this.#warn(
        err instanceof DeviceError ? err : cloudMessageInvalid(topic, errorMessage(err), err),
      )
      return
    }
    this.#cloudErrors += 1
    this.#log.warn(
      { refusedTopic: report.topic, code: report.error.code },
      'the cloud refused a message',
    )
    this.emit('cloudError', report)
  }

  #warn(err: DeviceError): void {
    this.#log.warn({ err }, 'warning')
    this.emit('warning', err)
  }
}
