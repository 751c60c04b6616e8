import Type from 'typebox'
import type { Api, HttpServices } from '../api-types.js'
import { tokenOf } from '../authenticate.js'
import { ApiTokenSchema, IdParams, RoleSchema, TenantSchema, UserSchema } from '../schemas.js'

const Email = Type.String({ minLength: 3, maxLength: 320 })
const Password = Type.String({ minLength: 1, maxLength: 256 })
const Principal = Type.Object({
  kind: Type.Union([Type.Literal('user'), Type.Literal('token')]),
  id: Type.String(),
  tenantId: Type.String(),
  role: RoleSchema,
  platformAdmin: Type.Boolean(),
})

/** Setup, login, tenants, users and API tokens. */
export function registerAccountRoutes(app: Api, s: HttpServices): void {
  app.get(
    '/api/v1/health',
    {
      schema: {
        tags: ['node'],
        summary: 'Is the node up, and does it still wait for its first admin?',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            setupPending: Type.Boolean(),
            mqtt: Type.Object({ url: Type.String(), tlsUrl: Type.String() }),
          }),
        },
      },
    },
    () => ({
      status: 'ok' as const,
      setupPending: s.accounts.setupPending(),
      mqtt: { url: s.endpoints.mqttUrl, tlsUrl: s.endpoints.mqttsUrl },
    }),
  )

  app.post(
    '/api/v1/setup',
    {
      config: { rateLimit: { max: 20, timeWindow: 60_000 } },
      schema: {
        tags: ['accounts'],
        summary: 'Create the first admin with the one-time setup token printed on first start',
        body: Type.Object({
          setupToken: Type.String({ maxLength: 128 }),
          email: Email,
          password: Password,
          tenantId: Type.Optional(Type.String({ maxLength: 63 })),
          tenantName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        response: { 201: Type.Object({ tenant: TenantSchema, user: UserSchema }) },
      },
    },
    async (req, reply) => {
      const { setupToken, ...input } = req.body
      const result = await s.accounts.completeSetup(setupToken, input)
      return reply.status(201).send(result)
    },
  )

  app.post(
    '/api/v1/auth/login',
    {
      config: { rateLimit: { max: 20, timeWindow: 60_000 } },
      schema: {
        tags: ['accounts'],
        summary: 'Log in: a session token for `Authorization: Bearer`',
        body: Type.Object({ email: Email, password: Password }),
        response: {
          200: Type.Object({ token: Type.String(), expiresAt: Type.Integer(), user: UserSchema }),
        },
      },
    },
    async (req) => s.accounts.login(req.body.email, req.body.password),
  )

  app.post(
    '/api/v1/auth/logout',
    { schema: { tags: ['accounts'], summary: 'End this session' } },
    async (req, reply) => {
      await s.principal(req)
      s.accounts.logout(tokenOf(req) ?? '')
      return reply.status(204).send()
    },
  )

  app.get(
    '/api/v1/me',
    { schema: { tags: ['accounts'], summary: 'Who this token is', response: { 200: Principal } } },
    async (req) => s.principal(req),
  )

  app.get(
    '/api/v1/tenants',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Tenants (all for a platform admin, your own otherwise)',
        response: { 200: Type.Object({ items: Type.Array(TenantSchema) }) },
      },
    },
    async (req) => ({ items: s.accounts.listTenants(await s.principal(req)) }),
  )

  app.post(
    '/api/v1/tenants',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create a tenant (platform admins)',
        body: Type.Object({
          id: Type.String({ maxLength: 63 }),
          name: Type.String({ minLength: 1, maxLength: 200 }),
          requireApproval: Type.Optional(Type.Boolean()),
        }),
        response: { 201: TenantSchema },
      },
    },
    async (req, reply) =>
      reply.status(201).send(s.accounts.createTenant(await s.principal(req), req.body)),
  )

  app.get(
    '/api/v1/users',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Users of your tenant',
        response: { 200: Type.Object({ items: Type.Array(UserSchema) }) },
      },
    },
    async (req) => ({ items: s.accounts.listUsers(await s.principal(req)) }),
  )

  app.post(
    '/api/v1/users',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create a user (admins; platform admins may name another tenant)',
        body: Type.Object({
          email: Email,
          password: Password,
          role: RoleSchema,
          tenantId: Type.Optional(Type.String({ maxLength: 63 })),
        }),
        response: { 201: UserSchema },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await s.accounts.createUser(await s.principal(req), req.body)),
  )

  app.post(
    '/api/v1/users/:id/disable',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Disable a user and end their sessions',
        params: IdParams,
        response: { 200: UserSchema },
      },
    },
    async (req) => s.accounts.disableUser(await s.principal(req), req.params.id),
  )

  app.get(
    '/api/v1/tokens',
    {
      schema: {
        tags: ['accounts'],
        summary: 'API tokens of your tenant (never their secrets)',
        response: { 200: Type.Object({ items: Type.Array(ApiTokenSchema) }) },
      },
    },
    async (req) => ({ items: s.apiTokens.list(await s.principal(req)) }),
  )

  app.post(
    '/api/v1/tokens',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create an API token; its secret is in this reply only',
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 200 }),
          role: RoleSchema,
          expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
        }),
        response: { 201: Type.Object({ token: Type.String(), apiToken: ApiTokenSchema }) },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await s.apiTokens.create(await s.principal(req), req.body)),
  )

  app.delete(
    '/api/v1/tokens/:id',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Revoke an API token',
        params: IdParams,
        response: { 200: ApiTokenSchema },
      },
    },
    async (req) => s.apiTokens.revoke(await s.principal(req), req.params.id),
  )
}
