import type { FastifyError } from 'fastify'
import Type from 'typebox'
import { namePattern } from '@strata/protocol'
import { twinEtag } from '../../twins/device-twins.js'
import { defaultTwinLimits, tooLarge } from '../../twins/twin-limits.js'
import type { Api, HttpServices } from '../api-types.js'
import { sendProblem } from '../problem.js'
import { EpochMs, IdParams, Nullable, PageOf, PageQuery } from '../schemas.js'
import { Time, timeOf } from '../time-params.js'

const Document = Type.Record(Type.String(), Type.Unknown(), { description: 'a JSON object' })
const Side = Type.Union([Type.Literal('desired'), Type.Literal('reported')])
/** A merge patch as devices accept it: top-level names follow the protocol's name rule. */
const DesiredPatch = Type.Record(Type.String({ pattern: namePattern }), Type.Unknown(), {
  additionalProperties: false,
  description:
    'a JSON merge patch (RFC 7396): null deletes, objects merge, anything else replaces; top-level names are 1–128 of A–Z a–z 0–9 . _ -',
})

export const TwinSchema = Type.Object(
  {
    deviceId: Type.String(),
    desired: Document,
    reported: Document,
    desiredVersion: Type.Integer(),
    reportedVersion: Type.Integer(),
    metadata: Type.Object(
      {
        desired: Type.Record(Type.String(), Type.Integer()),
        reported: Type.Record(Type.String(), Type.Integer()),
      },
      { description: 'per side: JSON pointer of each property → when it last changed (epoch ms)' },
    ),
    desiredUpdatedAt: Nullable(EpochMs),
    reportedUpdatedAt: Nullable(EpochMs),
    deliveredDesiredVersion: Type.Integer({
      description: 'the last desired version the device is known to hold',
    }),
    asOf: Nullable(EpochMs),
  },
  { title: 'Twin' },
)

export const TwinChangeSchema = Type.Object(
  {
    seq: Type.Integer(),
    deviceId: Type.String(),
    side: Side,
    version: Type.Integer(),
    source: Type.String({ description: '`user:<id>`, `token:<id>`, `device`' }),
    at: EpochMs,
    patch: Document,
  },
  { title: 'TwinChange' },
)

/** Request bodies above this are refused before they are read whole. */
const maxPatchBodyBytes = defaultTwinLimits.maxDocumentBytes + 16 * 1024

/** Device twins: the whole twin, desired patches, history, the twin at a time, fleet queries. */
export function registerTwinRoutes(app: Api, s: HttpServices): void {
  // RFC 7396's media type, parsed like application/json.
  if (!app.hasContentTypeParser('application/merge-patch+json')) {
    app.addContentTypeParser(
      'application/merge-patch+json',
      { parseAs: 'string', bodyLimit: maxPatchBodyBytes },
      app.getDefaultJsonParser('error', 'error'),
    )
  }

  app.get(
    '/api/v1/devices/:id/twin',
    {
      schema: {
        tags: ['twins'],
        summary: 'The twin now, or as it was at a time (rebuilt from its history); ETag "D.R"',
        params: IdParams,
        querystring: Type.Object({ at: Type.Optional(Time) }),
        response: { 200: TwinSchema },
      },
    },
    async (req, reply) => {
      const at = req.query.at === undefined ? undefined : timeOf(req.query.at, 'at')
      const twin = s.twins.get(
        await s.principal(req),
        req.params.id,
        at === undefined ? {} : { at },
      )
      return reply.header('etag', twinEtag(twin)).send(twin)
    },
  )

  app.patch(
    '/api/v1/devices/:id/twin/desired',
    {
      bodyLimit: maxPatchBodyBytes,
      // A body over the limit is a twin too large, with its own code and 413.
      errorHandler: (err: FastifyError, req, reply) => {
        void sendProblem(
          err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? tooLarge(`the request body is over ${String(maxPatchBodyBytes)} bytes`)
            : err,
          req,
          reply,
        )
      },
      schema: {
        tags: ['twins'],
        summary:
          'Merge a patch into the desired state; the device gets {version, desired: patch} on twin/desired',
        params: IdParams,
        headers: Type.Object({
          'if-match': Type.Optional(
            Type.String({
              maxLength: 256,
              description:
                'the desired version you read (3, "3", or the twin ETag "3.7"); 412 when it changed',
            }),
          ),
        }),
        body: DesiredPatch,
        response: { 200: TwinSchema },
      },
    },
    async (req, reply) => {
      const ifMatch = req.headers['if-match']
      const twin = s.twins.patchDesired(
        await s.principal(req),
        req.params.id,
        req.body,
        ifMatch === undefined ? {} : { ifMatch },
      )
      return reply.header('etag', twinEtag(twin)).send(twin)
    },
  )

  app.get(
    '/api/v1/devices/:id/twin/history',
    {
      schema: {
        tags: ['twins'],
        summary: 'Changes of the twin, newest first: version, source, time and the patch',
        params: IdParams,
        querystring: Type.Object({
          ...PageQuery,
          side: Type.Optional(Side),
          from: Type.Optional(Time),
          to: Type.Optional(Time),
        }),
        response: { 200: PageOf(TwinChangeSchema) },
      },
    },
    async (req) => {
      const q = req.query
      const page = s.twins.history(await s.principal(req), req.params.id, {
        limit: q.limit ?? 100,
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        ...(q.side === undefined ? {} : { side: q.side }),
        ...(q.from === undefined ? {} : { from: timeOf(q.from, 'from') }),
        ...(q.to === undefined ? {} : { to: timeOf(q.to, 'to') }),
      })
      return { items: [...page.items], nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/api/v1/twins',
    {
      schema: {
        tags: ['twins'],
        summary: 'Fleet query: the twins whose reported/desired/attributes and labels match',
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
          cursor: Type.Optional(Type.String({ maxLength: 512 })),
          where: Type.Optional(
            Type.String({
              maxLength: 2048,
              description:
                'terms joined by commas: reported.firmware=2.1, desired.config.interval>=30, reported.fault, !reported.fault (docs/node.md)',
            }),
          ),
          label: Type.Optional(
            Type.String({ maxLength: 2048, description: 'label query: site=berlin,tier!=test' }),
          ),
          labels: Type.Optional(Type.String({ maxLength: 2048, description: 'same as label' })),
        }),
        response: { 200: PageOf(TwinSchema) },
      },
    },
    async (req) => {
      const q = req.query
      const labels = [q.label, q.labels].filter((l) => l !== undefined && l !== '').join(',')
      const page = s.twins.query(await s.principal(req), {
        limit: q.limit ?? 50,
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        ...(q.where === undefined ? {} : { where: q.where }),
        ...(labels === '' ? {} : { labels }),
      })
      return { items: [...page.items], nextCursor: page.nextCursor }
    },
  )
}
