import { CommandRequest, CommandResponse, decoder, isName, parseTopicName } from '@strata/protocol'
import type { IPublishPacket } from 'mqtt'
import type { Logger } from 'pino'
import { DeviceError } from '../errors.js'
import { cloudMessageInvalid, decodeCloudPayload } from './cloud-payload.js'
import type { JsonObject } from '@strata/protocol'
import type { Outbox } from './outbox.js'
import { errorMessage } from './twin-client.js'

/** A command as a handler gets it. */
export interface DeviceCommand {
  readonly id: string
  readonly name: string
  readonly params: JsonObject
  /** Epoch ms after which the cloud no longer wants an answer; absent: never. */
  readonly expiresAt?: number
}

/** What else a handler gets: a way to say "accepted, working on it", and a signal for shutdown. */
export interface CommandContext {
  /** Sends `{"status": "accepted"}` now; the handler's result follows when it returns. */
  accepted(): Promise<void>
  /** Aborted when the client closes. */
  readonly signal: AbortSignal
}

/**
 * Runs a command. What it returns (an object, or nothing) is sent as `succeeded` with that
 * result; what it throws as `failed` with `{code, message}` (`code` from the error's own `code`
 * when it is a string, else `DEVICE_COMMAND_FAILED`).
 */
export type CommandHandler = (command: DeviceCommand, context: CommandContext) => unknown

/** `client.commands`. */
export interface CommandsApi {
  /** Handles command `name`; returns a function that removes the handler. One handler per name. */
  on(name: string, handler: CommandHandler): () => void
}

/** Counters of the command path since the client was created. */
export interface CommandStats {
  readonly received: number
  readonly answered: number
  /** Arrived after `expiresAt`: not run, not answered. */
  readonly expired: number
  /** Delivered again with an id already handled (QoS 1 redelivery): not run again. */
  readonly duplicates: number
}

export interface CommandDispatcherDeps {
  readonly deviceId: string
  readonly outbox: Outbox
  readonly protocolVersion: 4 | 5
  readonly responseTopic: (id: string) => string
  readonly clock: () => number
  readonly log: Logger
  readonly warn: (error: DeviceError) => void
}

const decodeRequest = decoder(CommandRequest)
const decodeResponse = decoder(CommandResponse)
/** How many recent command ids are remembered to skip redeliveries. */
const recentIds = 1_000
const codePattern = /^[A-Za-z0-9_.:-]{1,64}$/

/** Receives commands, runs their handlers and answers them (docs/protocol.md §6.3). */
export class CommandDispatcher implements CommandsApi {
  readonly #d: CommandDispatcherDeps
  readonly #handlers = new Map<string, CommandHandler>()
  readonly #recent = new Set<string>()
  readonly #abort = new AbortController()
  #received = 0
  #answered = 0
  #expired = 0
  #duplicates = 0

  constructor(deps: CommandDispatcherDeps) {
    this.#d = deps
  }

  get stats(): CommandStats {
    return {
      received: this.#received,
      answered: this.#answered,
      expired: this.#expired,
      duplicates: this.#duplicates,
    }
  }

  on(name: string, handler: CommandHandler): () => void {
    if (!isName(name)) {
      throw new DeviceError(
        'DEVICE_MESSAGE_INVALID',
        `command name ${JSON.stringify(name)} is not a name`,
        {
          hint: 'Command names are 1–128 of A–Z a–z 0–9 . _ -, not starting with . or _.',
        },
      )
    }
    this.#handlers.set(name, handler)
    return () => {
      if (this.#handlers.get(name) === handler) this.#handlers.delete(name)
    }
  }

  /** A message on `commands/request/{name}`. */
  handle(name: string, topic: string, payload: Uint8Array, packet: IPublishPacket): void {
    let request: CommandRequest
    try {
      request = decodeRequest(decodeCloudPayload(payload, topic), topic)
    } catch (err) {
      this.#d.warn(
        err instanceof DeviceError ? err : cloudMessageInvalid(topic, errorMessage(err), err),
      )
      return
    }
    this.#received += 1
    if (this.#recent.has(request.id)) {
      this.#duplicates += 1
      this.#d.log.debug({ id: request.id, name }, 'command redelivered; already handled')
      return
    }
    this.#remember(request.id)
    if (request.expiresAt !== undefined && request.expiresAt <= this.#d.clock()) {
      // docs/protocol.md §6.3: an expired command is not for this device any more; no answer.
      this.#expired += 1
      this.#d.log.info(
        { id: request.id, name, expiresAt: request.expiresAt },
        'command expired; not run',
      )
      return
    }
    void this.#run(name, request, this.#replyRoute(request.id, packet))
  }

  close(): void {
    this.#abort.abort(new DeviceError('DEVICE_CLIENT_CLOSED', 'the device client closed'))
  }

  async #run(name: string, request: CommandRequest, route: Route): Promise<void> {
    const handler = this.#handlers.get(name)
    let response: CommandResponse
    if (handler === undefined) {
      response = failed(
        'DEVICE_COMMAND_UNKNOWN',
        `this device has no handler for the command ${name}`,
      )
    } else {
      const command: DeviceCommand = {
        id: request.id,
        name,
        params: request.params ?? {},
        ...(request.expiresAt === undefined ? {} : { expiresAt: request.expiresAt }),
      }
      const context: CommandContext = {
        accepted: () => this.#reply(route, { status: 'accepted' }),
        signal: this.#abort.signal,
      }
      try {
        response = succeeded(await handler(command, context))
      } catch (err) {
        response = failedFrom(err)
      }
    }
    try {
      await this.#reply(route, response)
      this.#answered += 1
    } catch (err) {
      this.#d.log.warn({ err, id: request.id, name }, 'command reply not sent')
    }
  }

  #reply(route: Route, response: CommandResponse): Promise<void> {
    return this.#d.outbox.publish(route.topic, response, route.properties)
  }

  /** MQTT 5: the request's response topic and correlation data, if it is this device's own; else commands/response/{id}. */
  #replyRoute(id: string, packet: IPublishPacket): Route {
    const props = packet.properties
    const fallback = { topic: this.#d.responseTopic(id) }
    if (this.#d.protocolVersion !== 5 || props?.responseTopic === undefined) return fallback
    const parsed = parseTopicName(props.responseTopic)
    if (parsed?.kind !== 'command.response' || parsed.owner !== this.#d.deviceId) {
      this.#d.log.warn(
        { responseTopic: props.responseTopic },
        'response topic outside the namespace; using commands/response/{id}',
      )
      return fallback
    }
    const correlationData = props.correlationData
    return correlationData === undefined
      ? { topic: props.responseTopic }
      : { topic: props.responseTopic, properties: { correlationData } }
  }

  #remember(id: string): void {
    this.#recent.add(id)
    if (this.#recent.size > recentIds) {
      const oldest = this.#recent.values().next().value
      if (oldest !== undefined) this.#recent.delete(oldest)
    }
  }
}

interface Route {
  readonly topic: string
  readonly properties?: IPublishPacket['properties']
}

function succeeded(result: unknown): CommandResponse {
  if (result === undefined || result === null) return { status: 'succeeded' }
  try {
    return decodeResponse({ status: 'succeeded', result }, 'command result')
  } catch (err) {
    return failed(
      'DEVICE_COMMAND_FAILED',
      `the handler returned a result the protocol cannot carry: ${errorMessage(err)}`,
    )
  }
}

function failedFrom(err: unknown): CommandResponse {
  const code = (err as { code?: unknown } | undefined)?.code
  return failed(
    typeof code === 'string' && codePattern.test(code) ? code : 'DEVICE_COMMAND_FAILED',
    errorMessage(err),
  )
}

function failed(code: string, message: string): CommandResponse {
  return { status: 'failed', error: { code, message: message.slice(0, 1024) } }
}
