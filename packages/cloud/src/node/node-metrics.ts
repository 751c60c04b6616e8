import type { Broker } from '@strata/mqtt'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'

/** The node's Prometheus metrics and the counters the services bump. */
export interface NodeMetrics {
  readonly registry: Registry
  readonly pointsStored: Counter
  readonly messagesRefused: Counter<'code'>
  readonly liveConnections: Gauge
  readonly liveFramesSent: Counter
  readonly liveFramesDropped: Counter
}

/**
 * Prometheus metrics of a node: the broker's counters and gauges (read when scraped), telemetry
 * points stored, messages refused by error code, the live feed's connections and frames, and
 * Node's own process metrics.
 */
export function createNodeMetrics(broker: Broker): NodeMetrics {
  const registry = new Registry()
  const pointsStored = new Counter({
    name: 'strata_points_stored_total',
    help: 'Telemetry points stored',
    registers: [registry],
  })
  const messagesRefused = new Counter({
    name: 'strata_messages_refused_total',
    help: 'Device messages refused, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  })
  const liveConnections = new Gauge({
    name: 'strata_live_connections',
    help: 'Live-feed WebSocket connections open now',
    registers: [registry],
  })
  const liveFramesSent = new Counter({
    name: 'strata_live_frames_sent_total',
    help: 'Live-feed frames handed to the OS',
    registers: [registry],
  })
  const liveFramesDropped = new Counter({
    name: 'strata_live_frames_dropped_total',
    help: 'Live-feed frames dropped because a client read too slowly',
    registers: [registry],
  })
  new Gauge({
    name: 'strata_mqtt_connections',
    help: 'MQTT connections open now',
    registers: [registry],
    collect() {
      this.set(broker.connectionCount)
    },
  })
  new Gauge({
    name: 'strata_mqtt_sessions',
    help: 'MQTT sessions, online and offline',
    registers: [registry],
    collect() {
      this.set(broker.sessionCount)
    },
  })
  const counters = [
    ['connectionsAccepted', 'strata_mqtt_connections_accepted_total', 'MQTT connections accepted'],
    ['authFailures', 'strata_mqtt_auth_failures_total', 'MQTT connects refused'],
    ['messagesReceived', 'strata_mqtt_messages_received_total', 'PUBLISH packets received'],
    ['messagesSent', 'strata_mqtt_messages_sent_total', 'PUBLISH packets sent'],
    [
      'messagesDropped',
      'strata_mqtt_messages_dropped_total',
      'Messages dropped (queues full, expired)',
    ],
    ['publishDenied', 'strata_mqtt_publish_denied_total', 'PUBLISH refused by authorisation'],
    [
      'subscribeDenied',
      'strata_mqtt_subscribe_denied_total',
      'Subscriptions refused by authorisation',
    ],
    ['bytesReceived', 'strata_mqtt_bytes_received_total', 'Bytes received by the MQTT server'],
    ['bytesSent', 'strata_mqtt_bytes_sent_total', 'Bytes sent by the MQTT server'],
  ] as const
  for (const [field, name, help] of counters) {
    // The broker keeps its own totals; a scrape copies them.
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(broker.metrics[field])
      },
    })
  }
  collectDefaultMetrics({ register: registry, prefix: 'strata_' })
  return {
    registry,
    pointsStored,
    messagesRefused,
    liveConnections,
    liveFramesSent,
    liveFramesDropped,
  }
}

/** The rule engine's running totals, read when the metrics are scraped. */
export interface RuleMetricTotals {
  readonly evaluations: number
  readonly matches: number
  readonly errors: number
  readonly actionFailures: ReadonlyMap<string, number>
}

/**
 * Rule metrics: evaluations, matches, failed evaluations and failed actions by type. The engine
 * counts in plain numbers on its hot path; a scrape copies them (like the broker's counters).
 */
export function addRuleMetrics(registry: Registry, totals: RuleMetricTotals): void {
  const copy = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(read())
      },
    })
  copy(
    'strata_rule_evaluations_total',
    'Rule evaluations (a message offered to a rule)',
    () => totals.evaluations,
  )
  copy('strata_rule_matches_total', 'Rule evaluations that matched', () => totals.matches)
  copy('strata_rule_errors_total', 'Rule evaluations that failed', () => totals.errors)
  new Counter({
    name: 'strata_rule_action_failures_total',
    help: 'Rule actions that failed inside the node, by action type',
    labelNames: ['type'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [type, n] of totals.actionFailures) this.inc({ type }, n)
    },
  })
}
