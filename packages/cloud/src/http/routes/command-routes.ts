import Type from 'typebox'
import { namePattern } from '@strata/protocol'
import { commandStatuses } from '../../commands/command-store.js'
import type { Api, HttpServices } from '../api-types.js'
import { EpochMs, IdParams, Nullable, PageOf, PageQuery } from '../schemas.js'

const Document = Type.Record(Type.String(), Type.Unknown(), { description: 'a JSON object' })
const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() })
const Status = Type.Enum(commandStatuses)

export const CommandSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    deviceId: Type.String(),
    jobId: Nullable(Type.String()),
    name: Type.String(),
    params: Document,
    status: Status,
    statusReason: Type.String(),
    timeoutS: Type.Integer(),
    createdBy: Type.String(),
    createdAt: EpochMs,
    expiresAt: EpochMs,
    deadlineAt: EpochMs,
    sentAt: Nullable(EpochMs),
    deliveredAt: Nullable(EpochMs),
    finishedAt: Nullable(EpochMs),
    result: Nullable(Document),
    error: Nullable(ErrorBody),
    lateResponse: Nullable(
      Type.Object({
        status: Type.String(),
        result: Type.Optional(Document),
        error: Type.Optional(ErrorBody),
        at: EpochMs,
      }),
    ),
  },
  { title: 'Command' },
)

export const CommandJobSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    groupId: Type.String(),
    name: Type.String(),
    params: Document,
    timeoutS: Type.Integer(),
    expiresInS: Type.Integer(),
    total: Type.Integer(),
    queued: Type.Integer(),
    delivered: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    expired: Type.Integer(),
    done: Type.Boolean(),
    createdBy: Type.String(),
    createdAt: EpochMs,
  },
  { title: 'CommandJob' },
)

const CommandBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128, pattern: namePattern }),
  params: Type.Optional(
    Type.Record(Type.String({ pattern: namePattern }), Type.Unknown(), {
      additionalProperties: false,
      description: 'a JSON object the device gets as `params` (top-level names as for twins)',
    }),
  ),
  timeoutS: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'seconds for a final answer once the device accepted it (default 300)',
    }),
  ),
  expiresInS: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'seconds the device has to pick it up (default 3600); sent as expiresAt',
    }),
  ),
})

/** Commands to one device, bulk commands to a group, and their progress. */
export function registerCommandRoutes(app: Api, s: HttpServices): void {
  app.post(
    '/api/v1/devices/:id/commands',
    {
      schema: {
        tags: ['commands'],
        summary: 'Send a command: queued now, published to commands/request/{name} at QoS 1',
        params: IdParams,
        body: CommandBody,
        response: { 202: CommandSchema },
      },
    },
    async (req, reply) =>
      reply.status(202).send(s.commands.send(await s.principal(req), req.params.id, req.body)),
  )

  app.get(
    '/api/v1/devices/:id/commands',
    {
      schema: {
        tags: ['commands'],
        summary: "The device's commands, newest first",
        params: IdParams,
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(CommandSchema) },
      },
    },
    async (req) => {
      const page = s.commands.list(await s.principal(req), req.params.id, {
        limit: req.query.limit ?? 100,
        ...(req.query.cursor === undefined ? {} : { cursor: req.query.cursor }),
      })
      return { items: [...page.items], nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/api/v1/commands/:id',
    {
      schema: {
        tags: ['commands'],
        summary: 'One command and its status',
        params: IdParams,
        response: { 200: CommandSchema },
      },
    },
    async (req) => s.commands.get(await s.principal(req), req.params.id),
  )

  app.post(
    '/api/v1/groups/:id/commands',
    {
      schema: {
        tags: ['commands'],
        summary: 'Send a command to every device of a group: a job whose progress you can follow',
        params: IdParams,
        body: CommandBody,
        response: { 202: CommandJobSchema },
      },
    },
    async (req, reply) =>
      reply
        .status(202)
        .send(await s.commandJobs.start(await s.principal(req), req.params.id, req.body)),
  )

  app.get(
    '/api/v1/command-jobs/:id',
    {
      schema: {
        tags: ['commands'],
        summary: 'A bulk command job: how many commands are queued, delivered, done',
        params: IdParams,
        response: { 200: CommandJobSchema },
      },
    },
    async (req) => s.commandJobs.get(await s.principal(req), req.params.id),
  )
}
