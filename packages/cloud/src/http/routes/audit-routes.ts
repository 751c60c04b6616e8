import Type from 'typebox'
import { requirePermission } from '../../accounts/roles.js'
import type { Api, HttpServices } from '../api-types.js'
import { Nullable } from '../schemas.js'
import { Time, timeOf } from '../time-params.js'

const Outcome = Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')])
const AuditEntry = Type.Object({
  seq: Type.Integer(),
  ts: Type.Integer(),
  tenantId: Nullable(Type.String()),
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  outcome: Outcome,
  details: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
})

/** The audit log: search (newest first) and chain verification. */
export function registerAuditRoutes(app: Api, s: HttpServices): void {
  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary:
          'Audit entries of your tenant, newest first (platform admins: node-wide with scope=node)',
        querystring: Type.Object({
          actor: Type.Optional(
            Type.String({ maxLength: 300, description: 'exact, or a prefix ending in *' }),
          ),
          action: Type.Optional(
            Type.String({ maxLength: 100, description: 'exact, or a prefix ending in *: token.*' }),
          ),
          target: Type.Optional(
            Type.String({ maxLength: 600, description: 'exact, or a prefix ending in *' }),
          ),
          outcome: Type.Optional(Outcome),
          q: Type.Optional(
            Type.String({
              maxLength: 200,
              description: 'text anywhere in the actor, action, target or details, in any case',
            }),
          ),
          from: Type.Optional(Time),
          to: Type.Optional(Time),
          scope: Type.Optional(Type.Union([Type.Literal('tenant'), Type.Literal('node')])),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          cursor: Type.Optional(
            Type.String({
              pattern: '^[0-9]{1,15}$',
              description: 'the nextCursor of the previous page',
            }),
          ),
        }),
        response: {
          200: Type.Object({ items: Type.Array(AuditEntry), nextCursor: Nullable(Type.String()) }),
        },
      },
    },
    async (req) => {
      const principal = await s.principal(req)
      requirePermission(principal, 'audit:read')
      const q = req.query
      const limit = q.limit ?? 100
      const nodeScope = q.scope === 'node' && principal.platformAdmin
      const items = s.audit.query({
        tenantId: nodeScope ? null : principal.tenantId,
        ...(q.actor === undefined ? {} : { actor: q.actor }),
        ...(q.action === undefined ? {} : { action: q.action }),
        ...(q.target === undefined ? {} : { target: q.target }),
        ...(q.outcome === undefined ? {} : { outcome: q.outcome }),
        ...(q.q === undefined ? {} : { q: q.q }),
        ...(q.from === undefined ? {} : { from: timeOf(q.from, 'from') }),
        ...(q.to === undefined ? {} : { to: timeOf(q.to, 'to') }),
        ...(q.cursor === undefined ? {} : { beforeSeq: Number(q.cursor) }),
        limit,
      })
      const last = items.at(-1)
      return {
        items,
        nextCursor: items.length === limit && last !== undefined ? String(last.seq) : null,
      }
    },
  )

  app.get(
    '/api/v1/audit/verify',
    {
      schema: {
        tags: ['audit'],
        summary: 'Recompute the hash chain of the whole log; the head hash to keep elsewhere',
        response: {
          200: Type.Object({
            ok: Type.Boolean(),
            entries: Type.Integer(),
            headHash: Type.Optional(Type.String()),
            brokenAt: Type.Optional(Type.Integer()),
            problem: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (req) => {
      requirePermission(await s.principal(req), 'audit:read')
      return s.audit.verify()
    },
  )
}
