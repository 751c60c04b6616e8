import type { JsonObject } from '@strata/protocol'
import type { Permission } from '../accounts/roles.js'
import type { CommandStatus } from '../commands/command-store.js'
import type { PresenceStatus } from '../registry/presence.js'

/** What a live-feed subscription can listen to. */
export const liveTopics = ['telemetry', 'twin', 'presence', 'commands', 'alarms'] as const
export type LiveTopic = (typeof liveTopics)[number]

/**
 * The permission a role needs to subscribe to each topic. `alarms` has no producer yet (alarms
 * come with the rules service); it asks for `devices:read` until alarms have their own permission.
 */
export const topicPermissions: Readonly<Record<LiveTopic, Permission>> = {
  telemetry: 'telemetry:read',
  twin: 'twin:read',
  presence: 'devices:read',
  commands: 'commands:read',
  alarms: 'devices:read',
}

/** One stored telemetry point as the feed sends it (int64 beyond 2^53 as a decimal string). */
export interface LivePoint {
  readonly metric: string
  readonly ts: number
  readonly value: number | boolean | string
  readonly tags?: Readonly<Record<string, string>>
}

/** Points of one device that became durable in one store write. */
export interface TelemetryEvent {
  readonly type: 'telemetry'
  readonly deviceId: string
  readonly points: readonly LivePoint[]
}

/** A twin side changed: the new version and the merge patch that made it. */
export interface TwinEvent {
  readonly type: 'twin'
  readonly deviceId: string
  readonly side: 'desired' | 'reported'
  readonly version: number
  readonly patch: JsonObject
}

/** A device's presence changed (see registry/presence.ts). */
export interface PresenceEvent {
  readonly type: 'presence'
  readonly deviceId: string
  readonly status: PresenceStatus
  readonly reason: string
  readonly since: number
}

/** A command was created (`queued`) or moved on. */
export interface CommandEvent {
  readonly type: 'command'
  readonly deviceId: string
  readonly id: string
  readonly name: string
  readonly status: CommandStatus
}

/** Everything the hub carries. Each event belongs to one tenant, which the hub keeps aside. */
export type LiveEvent = TelemetryEvent | TwinEvent | PresenceEvent | CommandEvent

/** The topic an event is published on. */
export const topicOfEvent: Readonly<Record<LiveEvent['type'], LiveTopic>> = {
  telemetry: 'telemetry',
  twin: 'twin',
  presence: 'presence',
  command: 'commands',
}
