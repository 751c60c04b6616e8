import type { JsonObject } from '@strata/protocol'
import type { Permission } from '../accounts/roles.js'
import type { Alarm, AlarmHistoryEntry } from '../alarms/alarm-types.js'
import type { CommandStatus } from '../commands/command-store.js'
import type { PresenceStatus } from '../registry/presence.js'

/** What a live-feed subscription can listen to. */
export const liveTopics = ['telemetry', 'twin', 'presence', 'commands', 'alarms'] as const
export type LiveTopic = (typeof liveTopics)[number]

/** The permission a role needs to subscribe to each topic. */
export const topicPermissions: Readonly<Record<LiveTopic, Permission>> = {
  telemetry: 'telemetry:read',
  twin: 'twin:read',
  presence: 'devices:read',
  commands: 'commands:read',
  alarms: 'alarms:read',
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

/** An alarm was raised, raised again, escalated, acknowledged, cleared or commented on. */
export interface AlarmEvent {
  readonly type: 'alarm'
  readonly deviceId: string
  /** What happened: the history entry (without the alarm id, which `alarm` has). */
  readonly event: Omit<AlarmHistoryEntry, 'alarmId'>
  /** The alarm as it is now (without its tenant, which the subscriber's token fixes). */
  readonly alarm: Omit<Alarm, 'tenantId'>
}

/** Everything the hub carries. Each event belongs to one tenant, which the hub keeps aside. */
export type LiveEvent = TelemetryEvent | TwinEvent | PresenceEvent | CommandEvent | AlarmEvent

/** The topic an event is published on. */
export const topicOfEvent: Readonly<Record<LiveEvent['type'], LiveTopic>> = {
  telemetry: 'telemetry',
  twin: 'twin',
  presence: 'presence',
  command: 'commands',
  alarm: 'alarms',
}
