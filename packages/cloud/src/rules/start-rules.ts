import type { ServerMessage } from '@strata/mqtt'
import type { Logger } from 'pino'
import type { DeviceCommands } from '../commands/device-commands.js'
import { toSeriesBatches } from '../ingestion/telemetry-batches.js'
import type { WriteBatcher } from '../ingestion/write-batcher.js'
import type { DeviceRegistry } from '../registry/device-registry.js'
import type { DeviceTwins } from '../twins/device-twins.js'
import { openOutbox, type Outbox, type OutboxOptions } from './delivery/index.js'
import type { AlarmSink } from './rule-alarms.js'
import { RuleContextCache } from './rule-context.js'
import { RuleEngine, type RuleEngineOptions } from './rule-engine.js'
import type { RuleSource } from './rule-types.js'

/** What the rules need from the node. */
export interface RuleServicesDeps {
  readonly source: RuleSource
  readonly registry: Pick<DeviceRegistry, 'lookup'>
  readonly twins: Pick<
    DeviceTwins,
    'read' | 'patchDesired' | 'onDesiredChange' | 'onReportedChange'
  >
  readonly commands: Pick<DeviceCommands, 'send'>
  readonly alarms: AlarmSink | undefined
  readonly batcher: Pick<WriteBatcher, 'write'>
  readonly publish: (message: ServerMessage) => Promise<void>
  /** The outbox's SQLite file (`DATA/delivery.db`). */
  readonly deliveryPath: string
  readonly clock: () => number
  readonly log: Logger
}

/** The running rules: the engine (the ingestion hook, stats) and the delivery outbox. */
export interface RuleServices {
  readonly engine: RuleEngine
  readonly outbox: Outbox
  /** Stops the engine, then the outbox (waiting briefly for deliveries in flight). */
  close(): Promise<void>
}

/**
 * Opens the delivery outbox and starts the rule engine on the node's services: outputs stored
 * through the write batcher, republished as the node, twins patched and commands sent as
 * `rule:<name>`, alarms raised and cleared, external actions queued in the outbox. Twin changes
 * refresh the context rules read.
 *
 * @example
 * const rules = startRuleServices({ source: ruleStore, registry, twins, commands, alarms, batcher,
 *   publish, deliveryPath: join(dir, 'delivery.db'), clock, log }, { delivery: options.delivery })
 * closers.push(() => rules.close())
 */
export function startRuleServices(
  deps: RuleServicesDeps,
  options: { delivery?: Partial<OutboxOptions>; engine?: RuleEngineOptions } = {},
): RuleServices {
  const log = deps.log
  const outbox = openOutbox(
    { path: deps.deliveryPath, logger: log, clock: deps.clock },
    options.delivery,
  )
  const context = new RuleContextCache({
    lookupDevice: (id) => {
      const device = deps.registry.lookup(id)
      return device === undefined
        ? undefined
        : { labels: device.labels, attributes: device.attributes }
    },
    readTwin: (id) => {
      const twin = deps.twins.read(id)
      return { desired: twin.desired.document, reported: twin.reported.document }
    },
    clock: deps.clock,
  })
  const engine = new RuleEngine(
    {
      source: deps.source,
      context,
      clock: deps.clock,
      log,
      listDeadLetters: (after) => outbox.listDeadLetters({ after, limit: 1000 }),
      host: {
        outbox,
        alarms: deps.alarms,
        publish: deps.publish,
        storeTelemetry: (tenantId, deviceId, at, values) =>
          deps.batcher.write(toSeriesBatches({ tenantId, deviceId }, [{ ts: at, values }], at)),
        patchDesired: (principal, deviceId, patch) => {
          deps.twins.patchDesired(principal, deviceId, patch)
        },
        sendCommand: (principal, deviceId, input) => {
          deps.commands.send(principal, deviceId, input)
        },
      },
    },
    options.engine,
  )
  deps.twins.onDesiredChange((id) => {
    engine.forgetTwin(id)
  })
  deps.twins.onReportedChange((id) => {
    engine.forgetTwin(id)
  })
  engine.start()
  let closing: Promise<void> | undefined
  return {
    engine,
    outbox,
    close: () =>
      (closing ??= (async () => {
        await engine.close()
        await outbox.close()
      })()),
  }
}
