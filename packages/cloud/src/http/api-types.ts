import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type {
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify'
import type { TimeSeriesStore } from '@strata/tsdb'
import type { Accounts } from '../accounts/accounts.js'
import type { ApiTokens } from '../accounts/api-tokens.js'
import type { Principal } from '../accounts/roles.js'
import type { AuditLog } from '../audit/audit-log.js'
import type { DeviceRegistry } from '../registry/device-registry.js'
import type { DeviceTokens } from '../registry/device-tokens.js'
import type { DeviceErrors } from '../registry/device-errors.js'
import type { DeviceGroups } from '../registry/device-groups.js'
import type { DeviceProfiles } from '../registry/device-profiles.js'
import type { PresenceTracker } from '../registry/presence.js'
import type { WriteBatcher } from '../ingestion/write-batcher.js'
import type { AcceptedMessage } from '../ingestion/device-messages.js'
import type { DeviceCertificates } from '../provisioning/device-certificates.js'
import type { DeviceTwins } from '../twins/device-twins.js'
import type { DeviceCommands } from '../commands/device-commands.js'
import type { CommandJobs } from '../commands/command-jobs.js'
import type { Alarms } from '../alarms/alarms.js'
import type { LiveFeed } from '../live/live-feed.js'
import type { Outbox } from '../rules/delivery/index.js'
import type { RuleStore } from '../rules/rule-store.js'
import type { RuleStatsSource } from '../rules/rule-types.js'
import type { Registry as MetricsRegistry } from 'prom-client'
import type { Logger } from 'pino'
import type { IncomingHttpHeaders } from 'node:http'

/** What authentication reads of a request. */
export interface WithHeaders {
  readonly headers: IncomingHttpHeaders
}

/** The Fastify instance with TypeBox types for routes. */
export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  TypeBoxTypeProvider
>

/** What the routes work with. */
export interface HttpServices {
  readonly accounts: Accounts
  readonly apiTokens: ApiTokens
  readonly registry: DeviceRegistry
  readonly deviceTokens: DeviceTokens
  readonly profiles: DeviceProfiles
  readonly groups: DeviceGroups
  readonly presence: PresenceTracker
  readonly deviceErrors: DeviceErrors
  readonly certificates: DeviceCertificates
  readonly twins: DeviceTwins
  readonly commands: DeviceCommands
  readonly commandJobs: CommandJobs
  /** Alarms of devices (`/api/v1/alarms…`). */
  readonly alarms: Alarms
  readonly audit: AuditLog
  readonly store: TimeSeriesStore
  readonly batcher: WriteBatcher
  /** The live feed's connections (`GET /api/v1/live`). */
  readonly live: LiveFeed
  /** The tenants' rules (`/api/v1/rules`). */
  readonly rules: RuleStore
  /** The rule engine's per-rule stats; rules are listed without stats when absent. */
  readonly ruleStats?: RuleStatsSource
  /** The delivery outbox, for a rule's dead letters; those routes answer 404 when absent. */
  readonly outbox?: Outbox
  /**
   * Told of telemetry written over HTTP once its points are durable (the rule engine's
   * `onAccepted`, as for MQTT). Must return at once and never throw.
   */
  readonly onAccepted?: (message: AcceptedMessage) => void
  readonly metrics: MetricsRegistry
  readonly clock: () => number
  /** Where devices connect: the node's MQTT and MQTTS listeners. */
  readonly endpoints: { readonly mqttUrl: string; readonly mqttsUrl: string }
  /** The principal behind the request's bearer token; `CLOUD_UNAUTHENTICATED` without one. */
  principal(request: WithHeaders): Promise<Principal>
  /** The device id a device token stands for; `CLOUD_UNAUTHENTICATED` when it is not valid. */
  deviceTokenSubject(token: string): Promise<string>
  /** The id of a live claim token; `CLOUD_UNAUTHENTICATED` when it is not valid. */
  verifyClaim(token: string): Promise<string>
}
