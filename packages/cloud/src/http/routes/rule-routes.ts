import Type from 'typebox'
import { requirePermission, type Principal } from '../../accounts/roles.js'
import { notFound } from '../../errors.js'
import type { DeadLetter } from '../../rules/delivery/index.js'
import { redactDefinition } from '../../rules/rule-secrets.js'
import { ruleDeliveryPrefix } from '../../rules/rule-delivery-id.js'
import type { Api, HttpServices } from '../api-types.js'
import {
  DeadLetterSchema,
  IfMatchHeaders,
  RuleDefinitionBody,
  RuleNameParams,
  RuleSchema,
  RuleVersionSchema,
  ruleEtag,
  ruleJson,
} from './rule-schemas.js'
import { registerRuleTrialRoutes } from './rule-trial-routes.js'

const tags = ['rules']

/**
 * Rules of a tenant: CRUD with versions and `If-Match`, enable/disable, the versions kept for
 * the audit, the dead letters of a rule's deliveries, and (rule-trial-routes.ts) dry runs and
 * replays. Secrets never leave: every definition is shown with `"********"` in their place.
 */
export function registerRuleRoutes(app: Api, s: HttpServices): void {
  const json = (rule: Parameters<typeof ruleJson>[0]) => ruleJson(rule, s.ruleStats)

  app.get(
    '/api/v1/rules',
    {
      schema: {
        tags,
        summary: 'Every rule of your tenant, in name order, with its stats',
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }) },
      },
    },
    async (req) => ({ items: s.rules.list(await s.principal(req)).map(json) }),
  )

  app.post(
    '/api/v1/rules',
    {
      schema: {
        tags,
        summary: 'Create a rule (version 1); 409 when the name is taken or the tenant is full',
        body: RuleDefinitionBody,
        response: { 201: RuleSchema },
      },
    },
    async (req, reply) => {
      const rule = await s.rules.create(await s.principal(req), req.body)
      return reply.status(201).header('etag', ruleEtag(rule)).send(json(rule))
    },
  )

  app.get(
    '/api/v1/rules/:name',
    {
      schema: {
        tags,
        summary: 'One rule; ETag "<version>"',
        params: RuleNameParams,
        response: { 200: RuleSchema },
      },
    },
    async (req, reply) => {
      const rule = s.rules.get(await s.principal(req), req.params.name)
      return reply.header('etag', ruleEtag(rule)).send(json(rule))
    },
  )

  app.put(
    '/api/v1/rules/:name',
    {
      schema: {
        tags,
        summary: 'Replace a rule’s definition (same name): version + 1; If-Match → 412 on a change',
        params: RuleNameParams,
        headers: IfMatchHeaders,
        body: RuleDefinitionBody,
        response: { 200: RuleSchema },
      },
    },
    async (req, reply) => {
      const ifMatch = req.headers['if-match']
      const rule = await s.rules.update(
        await s.principal(req),
        req.params.name,
        req.body,
        ifMatch === undefined ? {} : { ifMatch },
      )
      return reply.header('etag', ruleEtag(rule)).send(json(rule))
    },
  )

  app.delete(
    '/api/v1/rules/:name',
    {
      schema: {
        tags,
        summary: 'Delete a rule (its versions and audit entries stay)',
        params: RuleNameParams,
        response: { 204: Type.Null({ description: 'deleted' }) },
      },
    },
    async (req, reply) => {
      s.rules.delete(await s.principal(req), req.params.name)
      return reply.status(204).send(null)
    },
  )

  for (const verb of ['enable', 'disable'] as const) {
    app.post(
      `/api/v1/rules/:name/${verb}`,
      {
        schema: {
          tags,
          summary: `${verb === 'enable' ? 'Enable' : 'Disable'} a rule: a new version`,
          params: RuleNameParams,
          response: { 200: RuleSchema },
        },
      },
      async (req, reply) => {
        const principal = await s.principal(req)
        const rule = s.rules.setEnabled(principal, req.params.name, verb === 'enable')
        return reply.header('etag', ruleEtag(rule)).send(json(rule))
      },
    )
  }

  app.get(
    '/api/v1/rules/:name/versions',
    {
      schema: {
        tags,
        summary: 'The versions of a rule, newest first (kept after a delete)',
        params: RuleNameParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 100 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(RuleVersionSchema) }) },
      },
    },
    async (req) => {
      const versions = s.rules.versions(await s.principal(req), req.params.name, {
        limit: req.query.limit ?? 100,
      })
      return { items: versions.map((v) => ({ ...v, definition: redactDefinition(v.definition) })) }
    },
  )

  app.get(
    '/api/v1/rules/:name/versions/:version',
    {
      schema: {
        tags,
        summary: 'One version of a rule',
        params: Type.Object({
          ...RuleNameParams.properties,
          version: Type.Integer({ minimum: 1 }),
        }),
        response: { 200: RuleVersionSchema },
      },
    },
    async (req) => {
      const v = s.rules.version(await s.principal(req), req.params.name, req.params.version)
      return { ...v, definition: redactDefinition(v.definition) }
    },
  )

  app.get(
    '/api/v1/rules/:name/dead-letters',
    {
      schema: {
        tags,
        summary: 'Deliveries of this rule’s webhook, AMQP and NATS actions that were given up on',
        params: RuleNameParams,
        response: { 200: Type.Object({ items: Type.Array(DeadLetterSchema) }) },
      },
    },
    async (req) => {
      const principal = await s.principal(req)
      s.rules.get(principal, req.params.name)
      return { items: deadLettersOf(s, principal, req.params.name) }
    },
  )

  app.post(
    '/api/v1/rules/:name/dead-letters/:id/retry',
    {
      schema: {
        tags,
        summary: 'Queue a dead letter of this rule again (same id, attempts reset)',
        params: Type.Object({
          ...RuleNameParams.properties,
          id: Type.String({ minLength: 1, maxLength: 128 }),
        }),
        response: { 204: Type.Null({ description: 'queued' }) },
      },
    },
    async (req, reply) => {
      const principal = await s.principal(req)
      requirePermission(principal, 'rules:write')
      s.rules.get(principal, req.params.name)
      const letter = deadLettersOf(s, principal, req.params.name).find(
        (d) => d.id === req.params.id,
      )
      if (letter === undefined || s.outbox === undefined)
        throw notFound('dead letter', req.params.id)
      s.outbox.retryDeadLetter(letter.id)
      return reply.status(204).send(null)
    },
  )

  registerRuleTrialRoutes(app, s)
}

/**
 * Dead letters hold at most `maxDeadLetters` (10,000 by default): read them all, keep the rule's
 * (their delivery ids start with the rule's prefix, rule-delivery-id.ts).
 */
function deadLettersOf(s: HttpServices, principal: Principal, name: string): DeadLetter[] {
  const outbox = s.outbox
  if (outbox === undefined) return []
  const prefix = ruleDeliveryPrefix(principal.tenantId, name)
  const out: DeadLetter[] = []
  let after = 0
  for (;;) {
    const page = outbox.listDeadLetters({ after, limit: 1_000 })
    for (const d of page) if (d.id.startsWith(prefix)) out.push(d)
    const last = page.at(-1)
    if (last === undefined || page.length < 1_000) return out
    after = last.seq
  }
}
