import { dryRun, type RuleContext, type RuleMessage, type RuleTopicKind } from '@strata/analytics'
import { deviceTopics } from '@strata/protocol'
import { requirePermission } from '../../accounts/roles.js'
import { reportJson } from '../../rules/rule-report.js'
import { recordedTraffic } from '../../rules/rule-replay.js'
import { fillHiddenSecrets } from '../../rules/rule-secrets.js'
import { compileDefinition } from '../../rules/rule-validation.js'
import type { Api, HttpServices } from '../api-types.js'
import { DryRunBody, DryRunReportSchema, ReplayBody } from './rule-schemas.js'
import { timeOf } from '../time-params.js'

const tags = ['rules']

/**
 * Trying rules without side effects: a dry run over sample messages, and a replay of a device's
 * recorded traffic through a draft or saved rule. Both compile the rule afresh (fresh operator
 * state), never store anything and never run an action.
 */
export function registerRuleTrialRoutes(app: Api, s: HttpServices): void {
  app.post(
    '/api/v1/rules/dry-run',
    {
      schema: {
        tags,
        summary: 'Run a rule over sample messages: what it would select, match and output',
        body: DryRunBody,
        response: { 200: DryRunReportSchema },
      },
    },
    async (req) => {
      requirePermission(await s.principal(req), 'rules:read')
      const body = req.body
      const definition = compileDefinition(fillHiddenSecrets(body.rule))
      const now = s.clock()
      const messages = body.samples.map((sample, i): RuleMessage => {
        const deviceId = sample.deviceId ?? 'device'
        const kind = sample.kind ?? 'telemetry'
        return {
          deviceId,
          kind,
          topic: sample.topic ?? topicOf(deviceId, kind, i),
          ts: sample.ts ?? now,
          payload: sample.payload,
          ...(sample.tags === undefined ? {} : { tags: sample.tags }),
        }
      })
      const c = body.context
      const context: RuleContext | undefined =
        c === undefined
          ? undefined
          : {
              device: {
                ...(c.labels === undefined ? {} : { labels: c.labels }),
                ...(c.attributes === undefined ? {} : { attributes: c.attributes }),
              },
              ...(c.twin === undefined ? {} : { twin: c.twin }),
            }
      const report = dryRun(definition, messages, {
        ...(context === undefined ? {} : { context }),
        ...(body.untilMs === undefined ? {} : { untilMs: body.untilMs }),
      })
      return reportJson(report)
    },
  )

  app.post(
    '/api/v1/rules/replay',
    {
      schema: {
        tags,
        summary:
          'Replay a device’s recorded telemetry and twin reports in [from, to) through a draft or saved rule',
        body: ReplayBody,
        response: { 200: DryRunReportSchema },
      },
    },
    async (req) => {
      const principal = await s.principal(req)
      requirePermission(principal, 'rules:read')
      requirePermission(principal, 'telemetry:read')
      const body = req.body
      const definition =
        typeof body.rule === 'string'
          ? s.rules.get(principal, body.rule).definition
          : compileDefinition(fillHiddenSecrets(body.rule))
      const from = timeOf(String(body.from), 'from')
      const to = timeOf(String(body.to), 'to')
      const traffic = await recordedTraffic(
        { store: s.store, registry: s.registry, twins: s.twins },
        principal,
        { device: body.device, from, to, limit: body.limit ?? 10_000 },
      )
      const report = dryRun(definition, traffic.messages, { context: traffic.context, untilMs: to })
      return {
        ...reportJson(report),
        window: { from, to, messages: traffic.messages.length, truncated: traffic.truncated },
      }
    },
  )
}

/** The topic a device would have sent a sample of this kind on. */
function topicOf(deviceId: string, kind: RuleTopicKind, index: number): string {
  const t = deviceTopics(deviceId)
  switch (kind) {
    case 'telemetry':
      return t.telemetry()
    case 'event':
      return t.event('event')
    case 'twin.reported':
      return t.twinReported()
    case 'command.response':
      return t.commandResponse(`dry-run-${String(index)}`)
    case 'firmware.progress':
      return t.firmwareProgress()
  }
}
