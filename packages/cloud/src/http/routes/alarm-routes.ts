import { DeviceId } from '@strata/protocol'
import Type from 'typebox'
import {
  alarmEventKinds,
  alarmSeverities,
  alarmStatuses,
  type AlarmSeverity,
} from '../../alarms/alarm-types.js'
import { CloudError } from '../../errors.js'
import type { Api, HttpServices } from '../api-types.js'
import { optionalBody } from '../optional-body.js'
import { EpochMs, IdParams, Nullable, PageOf, PageQuery } from '../schemas.js'
import { Time, timeOf } from '../time-params.js'

const Document = Type.Record(Type.String(), Type.Unknown(), { description: 'a JSON object' })
const Severity = Type.Enum(alarmSeverities)

export const AlarmSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    deviceId: Type.String(),
    type: Type.String(),
    severity: Severity,
    status: Type.Enum(alarmStatuses),
    message: Nullable(Type.String()),
    details: Nullable(Document),
    source: Type.Object(
      {
        rule: Type.Optional(Type.String()),
        ruleVersion: Type.Optional(Type.Integer()),
        user: Type.Optional(Type.String({ description: '`user:<id>` or `token:<id>`' })),
      },
      { description: 'who raised it first: a rule (and its version) or a user' },
    ),
    raisedAt: EpochMs,
    lastRaisedAt: EpochMs,
    count: Type.Integer({ description: 'raises while open (1 for a new alarm)' }),
    acknowledgedAt: Nullable(EpochMs),
    acknowledgedBy: Nullable(Type.String()),
    clearedAt: Nullable(EpochMs),
    clearedBy: Nullable(Type.String({ description: '`rule:<name>`, `user:<id>` or `token:<id>`' })),
    comments: Type.Integer({ description: 'how many comments it has' }),
  },
  { title: 'Alarm' },
)

export const AlarmHistoryEntrySchema = Type.Object(
  {
    seq: Type.Integer(),
    alarmId: Type.String(),
    kind: Type.Enum(alarmEventKinds),
    at: EpochMs,
    by: Type.String({ description: '`rule:<name>`, `user:<id>` or `token:<id>`' }),
    details: Document,
  },
  { title: 'AlarmHistoryEntry' },
)

export const AlarmCommentSchema = Type.Object(
  {
    id: Type.Integer(),
    alarmId: Type.String(),
    at: EpochMs,
    by: Type.String(),
    text: Type.String(),
  },
  { title: 'AlarmComment' },
)

const severityList = `^(${alarmSeverities.join('|')})(,(${alarmSeverities.join('|')}))*$`
const Comment = Type.String({ minLength: 1, maxLength: 4096 })
const CommentBody = Type.Optional(Type.Object({ comment: Type.Optional(Comment) }))

/** Alarms of the caller's tenant: list, overview, one alarm, its history; ack, clear, comment. */
export function registerAlarmRoutes(app: Api, s: HttpServices): void {
  app.get(
    '/api/v1/alarms',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Alarms of your tenant, newest raised first, filtered',
        querystring: Type.Object({
          ...PageQuery,
          status: Type.Optional(Type.Enum([...alarmStatuses, 'open'] as const)),
          severity: Type.Optional(
            Type.String({
              pattern: severityList,
              description: 'one severity, or several: error,critical',
            }),
          ),
          device: Type.Optional(
            Type.String({
              maxLength: 4096,
              description: 'a device id, or several joined by commas',
            }),
          ),
          type: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          rule: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          q: Type.Optional(
            Type.String({ maxLength: 128, description: 'text in the type, message or device id' }),
          ),
          from: Type.Optional(Time),
          to: Type.Optional(Time),
        }),
        response: { 200: PageOf(AlarmSchema) },
      },
    },
    async (req) => {
      const q = req.query
      const page = s.alarms.list(await s.principal(req), {
        limit: q.limit ?? 100,
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.severity === undefined ? {} : { severity: q.severity.split(',') as AlarmSeverity[] }),
        ...(q.device === undefined ? {} : { deviceId: deviceList(q.device) }),
        ...(q.type === undefined ? {} : { type: q.type }),
        ...(q.rule === undefined ? {} : { rule: q.rule }),
        ...(q.q === undefined ? {} : { q: q.q }),
        ...(q.from === undefined ? {} : { from: timeOf(q.from, 'from') }),
        ...(q.to === undefined ? {} : { to: timeOf(q.to, 'to') }),
      })
      return { items: [...page.items], nextCursor: page.nextCursor }
    },
  )

  app.post(
    '/api/v1/alarms',
    {
      schema: {
        tags: ['alarms'],
        summary:
          'Raise an alarm by hand: 201 with a new alarm, or 200 with the open one of that device and type, raised again',
        body: Type.Object({
          deviceId: DeviceId,
          type: Type.String({ minLength: 1, maxLength: 128 }),
          severity: Severity,
          message: Type.Optional(Type.String({ maxLength: 2048 })),
          details: Type.Optional(Document),
        }),
        response: { 200: AlarmSchema, 201: AlarmSchema },
      },
    },
    async (req, reply) => {
      const { alarm, created } = s.alarms.raiseByUser(await s.principal(req), req.body)
      return reply.status(created ? 201 : 200).send(alarm)
    },
  )

  app.get(
    '/api/v1/alarms/summary',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Open alarms of your tenant counted by severity and by status',
        response: {
          200: Type.Object(
            {
              open: Type.Integer(),
              bySeverity: Type.Object(
                Object.fromEntries(alarmSeverities.map((sv) => [sv, Type.Integer()])) as Record<
                  AlarmSeverity,
                  ReturnType<typeof Type.Integer>
                >,
              ),
              byStatus: Type.Object({ active: Type.Integer(), acknowledged: Type.Integer() }),
            },
            { title: 'AlarmSummary' },
          ),
        },
      },
    },
    async (req) => s.alarms.summary(await s.principal(req)),
  )

  app.get(
    '/api/v1/alarms/:id',
    {
      schema: {
        tags: ['alarms'],
        summary: 'One alarm',
        params: IdParams,
        response: { 200: AlarmSchema },
      },
    },
    async (req) => s.alarms.get(await s.principal(req), req.params.id),
  )

  app.get(
    '/api/v1/alarms/:id/history',
    {
      schema: {
        tags: ['alarms'],
        summary: "The alarm's history, newest first: raised, escalated, re-raised, acknowledged, …",
        params: IdParams,
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(AlarmHistoryEntrySchema) },
      },
    },
    async (req) => {
      const page = s.alarms.history(await s.principal(req), req.params.id, {
        limit: req.query.limit ?? 100,
        ...(req.query.cursor === undefined ? {} : { cursor: req.query.cursor }),
      })
      return { items: [...page.items], nextCursor: page.nextCursor }
    },
  )

  app.post(
    '/api/v1/alarms/:id/acknowledge',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge an active alarm (409 CLOUD_ALARM_STATE otherwise)',
        params: IdParams,
        body: CommentBody,
        response: { 200: AlarmSchema },
      },
    },
    async (req) =>
      s.alarms.acknowledge(
        await s.principal(req),
        req.params.id,
        optionalBody<{ comment?: string }>(req.body)?.comment,
      ),
  )

  app.post(
    '/api/v1/alarms/:id/clear',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Clear an active or acknowledged alarm (409 CLOUD_ALARM_STATE when cleared)',
        params: IdParams,
        body: CommentBody,
        response: { 200: AlarmSchema },
      },
    },
    async (req) =>
      s.alarms.clearByUser(
        await s.principal(req),
        req.params.id,
        optionalBody<{ comment?: string }>(req.body)?.comment,
      ),
  )

  app.get(
    '/api/v1/alarms/:id/comments',
    {
      schema: {
        tags: ['alarms'],
        summary: "The alarm's comments, oldest first",
        params: IdParams,
        response: { 200: PageOf(AlarmCommentSchema) },
      },
    },
    async (req) => ({
      items: s.alarms.comments(await s.principal(req), req.params.id),
      nextCursor: null,
    }),
  )

  app.post(
    '/api/v1/alarms/:id/comments',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Comment on an alarm (in any status)',
        params: IdParams,
        body: Type.Object({ text: Comment }),
        response: { 201: AlarmCommentSchema },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(s.alarms.comment(await s.principal(req), req.params.id, req.body.text)),
  )
}

function deviceList(text: string): string[] {
  const ids = text.split(',').filter((id) => id !== '')
  if (ids.length === 0 || ids.length > 1000) {
    throw new CloudError('CLOUD_INVALID', 'device must name 1–1000 device ids joined by commas', {
      details: { field: 'device' },
    })
  }
  return ids
}
