import Type from 'typebox'
import type { Device } from '../../registry/device-registry.js'
import { deviceListSorts } from '../../registry/device-list-sort.js'
import { deviceStates } from '../../registry/device-lifecycle.js'
import type { Api, HttpServices } from '../api-types.js'
import {
  Attributes,
  DeviceSchema,
  DeviceStateSchema,
  DeviceTokenSchema,
  IdParams,
  Labels,
  Nullable,
  PageOf,
  PageQuery,
  PresenceSchema,
  EpochMs,
} from '../schemas.js'
import { optionalBody } from '../optional-body.js'

const lifecycleActions = ['approve', 'disable', 'enable', 'revoke'] as const

/** The device registry: devices, lifecycle, tokens, presence, refused messages. */
export function registerDeviceRoutes(app: Api, s: HttpServices): void {
  const withPresence = (d: Device) => {
    const { deviceId: _, ...presence } = s.presence.get(d.id)
    return { ...d, presence }
  }

  app.get(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Devices of your tenant, sorted (id by default), a page at a time',
        querystring: Type.Object({
          ...PageQuery,
          state: Type.Optional(DeviceStateSchema),
          labels: Type.Optional(
            Type.String({
              maxLength: 2048,
              description: 'label query: site=berlin,tier!=test,gpu,!retired',
            }),
          ),
          search: Type.Optional(
            Type.String({ maxLength: 128, description: 'prefix of id or name' }),
          ),
          sort: Type.Optional(
            Type.Enum(deviceListSorts, {
              description: 'order of the list, `-` for descending; a cursor keeps its sort',
            }),
          ),
        }),
        response: { 200: PageOf(DeviceSchema) },
      },
    },
    async (req) => {
      const page = s.registry.list(await s.principal(req), {
        ...req.query,
        limit: req.query.limit ?? 100,
      })
      return { items: page.items.map(withPresence), nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/api/v1/devices/summary',
    {
      schema: {
        tags: ['devices'],
        summary: 'How many devices your tenant has, by lifecycle state and by presence',
        response: {
          200: Type.Object({
            total: Type.Integer(),
            byState: Type.Object(
              Object.fromEntries(deviceStates.map((st) => [st, Type.Integer()])) as Record<
                (typeof deviceStates)[number],
                ReturnType<typeof Type.Integer>
              >,
            ),
            byPresence: Type.Object({
              online: Type.Integer(),
              sleeping: Type.Integer(),
              offline: Type.Integer(),
            }),
          }),
        },
      },
    },
    async (req) => {
      const principal = await s.principal(req)
      s.presence.flush()
      return s.registry.summary(principal)
    },
  )

  app.get(
    '/api/v1/devices/:id/presence-history',
    {
      schema: {
        tags: ['devices'],
        summary:
          "The device's connection history, newest first (its last 1,000 changes, 30 days at most)",
        params: IdParams,
        querystring: Type.Object(PageQuery),
        response: {
          200: PageOf(
            Type.Object({
              status: PresenceSchema.properties.status,
              reason: Type.String(),
              at: EpochMs,
            }),
          ),
        },
      },
    },
    async (req) => {
      const device = s.registry.get(await s.principal(req), req.params.id)
      const page = s.presence.history(device.id, { ...req.query, limit: req.query.limit ?? 100 })
      return { items: [...page.items], nextCursor: page.nextCursor }
    },
  )

  app.post(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Register a device (pending approval when your tenant asks for it)',
        body: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 64 }),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          profileId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          labels: Type.Optional(Labels),
          attributes: Type.Optional(Attributes),
        }),
        response: { 201: DeviceSchema },
      },
    },
    async (req, reply) =>
      reply.status(201).send(withPresence(s.registry.create(await s.principal(req), req.body))),
  )

  app.get(
    '/api/v1/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'One device, with its presence',
        params: IdParams,
        response: { 200: DeviceSchema },
      },
    },
    async (req) => withPresence(s.registry.get(await s.principal(req), req.params.id)),
  )

  app.patch(
    '/api/v1/devices/:id',
    {
      schema: {
        tags: ['devices'],
        summary: 'Change name, labels, attributes or profile (each replaced whole)',
        params: IdParams,
        body: Type.Object({
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          profileId: Type.Optional(
            Nullable(Type.String({ minLength: 1, maxLength: 128, description: 'null clears it' })),
          ),
          labels: Type.Optional(Labels),
          attributes: Type.Optional(Attributes),
        }),
        response: { 200: DeviceSchema },
      },
    },
    async (req) => withPresence(s.registry.update(await s.principal(req), req.params.id, req.body)),
  )

  for (const action of lifecycleActions) {
    app.post(
      `/api/v1/devices/:id/${action}`,
      {
        schema: {
          tags: ['devices'],
          summary:
            action === 'revoke'
              ? 'Revoke: final; voids every credential and cuts the live session at once'
              : action === 'disable'
                ? 'Disable: refuse the device until enabled; cuts the live session'
                : `${action[0]?.toUpperCase() ?? ''}${action.slice(1)} the device`,
          params: IdParams,
          body: Type.Optional(
            Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }),
          ),
          response: { 200: DeviceSchema },
        },
      },
      async (req) =>
        withPresence(
          s.registry.transition(
            await s.principal(req),
            req.params.id,
            action,
            optionalBody<{ reason?: string }>(req.body)?.reason ?? '',
          ),
        ),
    )
  }

  app.get(
    '/api/v1/devices/:id/tokens',
    {
      schema: {
        tags: ['devices'],
        summary: "A device's tokens (never their secrets)",
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(DeviceTokenSchema) }) },
      },
    },
    async (req) => ({ items: s.deviceTokens.list(await s.principal(req), req.params.id) }),
  )

  app.post(
    '/api/v1/devices/:id/tokens',
    {
      schema: {
        tags: ['devices'],
        summary: 'Issue a device token (the MQTT password); its secret is in this reply only',
        params: IdParams,
        body: Type.Optional(
          Type.Object({
            expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          }),
        ),
        response: { 201: Type.Object({ token: Type.String(), deviceToken: DeviceTokenSchema }) },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await s.deviceTokens.create(
            await s.principal(req),
            req.params.id,
            optionalBody<{ expiresInDays?: number }>(req.body) ?? {},
          ),
        ),
  )

  app.delete(
    '/api/v1/devices/:id/tokens/:tokenId',
    {
      schema: {
        tags: ['devices'],
        summary: 'Revoke a device token; sessions it opened are cut',
        params: Type.Object({
          id: Type.String({ maxLength: 64 }),
          tokenId: Type.String({ maxLength: 64 }),
        }),
        response: { 200: DeviceTokenSchema },
      },
    },
    async (req) => s.deviceTokens.revoke(await s.principal(req), req.params.id, req.params.tokenId),
  )

  app.get(
    '/api/v1/devices/:id/errors',
    {
      schema: {
        tags: ['devices'],
        summary: "The device's refused messages: how many, and the last error",
        params: IdParams,
        response: {
          200: Type.Object({
            count: Type.Integer(),
            last: Nullable(
              Type.Object({
                code: Type.String(),
                message: Type.String(),
                topic: Type.String(),
                at: Type.Integer(),
              }),
            ),
          }),
        },
      },
    },
    async (req) => {
      const device = s.registry.get(await s.principal(req), req.params.id)
      const e = s.deviceErrors.get(device.id)
      return {
        count: e?.count ?? 0,
        last:
          e === undefined
            ? null
            : { code: e.lastCode, message: e.lastMessage, topic: e.lastTopic, at: e.lastAt },
      }
    },
  )
}
