import Type from 'typebox'
import type { Device } from '../../registry/device-registry.js'
import type { Api, HttpServices } from '../api-types.js'
import { DeviceSchema, GroupSchema, IdParams, PageOf, PageQuery } from '../schemas.js'

/** Device groups: static (listed members) and dynamic (a label query evaluated live). */
export function registerGroupRoutes(app: Api, s: HttpServices): void {
  const withPresence = (d: Device) => {
    const { deviceId: _, ...presence } = s.presence.get(d.id)
    return { ...d, presence }
  }

  app.get(
    '/api/v1/groups',
    {
      schema: {
        tags: ['groups'],
        summary:
          'Groups of your tenant, by id, a page at a time; with device, that device’s groups',
        querystring: Type.Object({
          ...PageQuery,
          device: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 64,
              description: 'only the groups this device is in now (one page, all of them)',
            }),
          ),
        }),
        response: { 200: PageOf(GroupSchema) },
      },
    },
    async (req) => {
      const principal = await s.principal(req)
      if (req.query.device === undefined) {
        const page = s.groups.list(principal, { ...req.query, limit: req.query.limit ?? 100 })
        return { items: [...page.items], nextCursor: page.nextCursor }
      }
      // The registry refuses another tenant's device before groupsOf sees it.
      const device = s.registry.get(principal, req.query.device)
      return { items: s.groups.groupsOf(device.id), nextCursor: null }
    },
  )

  app.post(
    '/api/v1/groups',
    {
      schema: {
        tags: ['groups'],
        summary: 'Create a group: static, or dynamic when it has a label query',
        body: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 128 }),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          query: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 2048,
              description: 'label query of a dynamic group: site=berlin,tier!=test,gpu,!retired',
            }),
          ),
        }),
        response: { 201: GroupSchema },
      },
    },
    async (req, reply) => reply.status(201).send(s.groups.create(await s.principal(req), req.body)),
  )

  app.get(
    '/api/v1/groups/:id',
    {
      schema: {
        tags: ['groups'],
        summary: 'One group',
        params: IdParams,
        response: { 200: GroupSchema },
      },
    },
    async (req) => s.groups.get(await s.principal(req), req.params.id),
  )

  app.delete(
    '/api/v1/groups/:id',
    {
      schema: {
        tags: ['groups'],
        summary: 'Delete a group (its devices stay)',
        params: IdParams,
        response: { 204: Type.Null({ description: 'deleted' }) },
      },
    },
    async (req, reply) => {
      s.groups.delete(await s.principal(req), req.params.id)
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/api/v1/groups/:id/members',
    {
      schema: {
        tags: ['groups'],
        summary: 'Devices in the group, by id, a page at a time (revoked devices are in none)',
        params: IdParams,
        querystring: Type.Object(PageQuery),
        response: { 200: PageOf(DeviceSchema) },
      },
    },
    async (req) => {
      const page = s.groups.members(await s.principal(req), req.params.id, {
        ...req.query,
        limit: req.query.limit ?? 100,
      })
      return { items: page.items.map(withPresence), nextCursor: page.nextCursor }
    },
  )

  app.post(
    '/api/v1/groups/:id/members',
    {
      schema: {
        tags: ['groups'],
        summary: 'Add devices to a static group, all or none (409 for a dynamic group)',
        params: IdParams,
        body: Type.Object({
          deviceIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
            minItems: 1,
            maxItems: 1000,
          }),
        }),
        response: {
          200: Type.Object({
            added: Type.Array(Type.String(), { description: 'ids that were not members yet' }),
          }),
        },
      },
    },
    async (req) => ({
      added: s.groups.addMembers(await s.principal(req), req.params.id, req.body.deviceIds),
    }),
  )

  app.delete(
    '/api/v1/groups/:id/members/:deviceId',
    {
      schema: {
        tags: ['groups'],
        summary: 'Take a device out of a static group (409 for a dynamic group)',
        params: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 128 }),
          deviceId: Type.String({ minLength: 1, maxLength: 64 }),
        }),
        response: { 204: Type.Null({ description: 'removed' }) },
      },
    },
    async (req, reply) => {
      s.groups.removeMember(await s.principal(req), req.params.id, req.params.deviceId)
      return reply.status(204).send(null)
    },
  )
}
