import { decoder } from '@strata/protocol'
import type { FastifySchemaCompiler } from 'fastify'
import Type, { type TSchema } from 'typebox'
import { asInvalidField, ProfileSpec } from '../../registry/profile-spec.js'
import type { Api, HttpServices } from '../api-types.js'
import { IdParams, ProfileSchema } from '../schemas.js'

const ProfileName = Type.String({ minLength: 1, maxLength: 200 })
const ProfileDescription = Type.String({ maxLength: 2000 })

/**
 * Validates with the TypeBox compiler rather than ajv, so that every refusal names its field, an
 * unknown property too (`/spec has unknown properties "limit"`), in `details.field`.
 */
const namingValidator: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const decode = decoder(schema)
  return (data) => {
    try {
      return { value: decode(data, httpPart ?? 'request') }
    } catch (err) {
      return { error: asInvalidField(err, '') as Error }
    }
  }
}

/** Device profiles: what a kind of device sends, and its limits. */
export function registerProfileRoutes(app: Api, s: HttpServices): void {
  app.get(
    '/api/v1/profiles',
    {
      schema: {
        tags: ['profiles'],
        summary: 'Device profiles of your tenant, by id',
        response: { 200: Type.Object({ items: Type.Array(ProfileSchema) }) },
      },
    },
    async (req) => ({ items: s.profiles.list(await s.principal(req)) }),
  )

  app.post(
    '/api/v1/profiles',
    {
      validatorCompiler: namingValidator,
      schema: {
        tags: ['profiles'],
        summary: 'Create a device profile; the reply shows its spec with defaults filled in',
        body: Type.Object({
          id: Type.String({ minLength: 1, maxLength: 128 }),
          name: Type.Optional(ProfileName),
          description: Type.Optional(ProfileDescription),
          spec: Type.Optional(ProfileSpec),
        }),
        response: { 201: ProfileSchema },
      },
    },
    async (req, reply) =>
      reply.status(201).send(s.profiles.create(await s.principal(req), req.body)),
  )

  app.get(
    '/api/v1/profiles/:id',
    {
      schema: {
        tags: ['profiles'],
        summary: 'One device profile',
        params: IdParams,
        response: { 200: ProfileSchema },
      },
    },
    async (req) => s.profiles.get(await s.principal(req), req.params.id),
  )

  app.patch(
    '/api/v1/profiles/:id',
    {
      validatorCompiler: namingValidator,
      schema: {
        tags: ['profiles'],
        summary: 'Change name, description or spec (the spec is replaced whole)',
        params: IdParams,
        body: Type.Object({
          name: Type.Optional(ProfileName),
          description: Type.Optional(ProfileDescription),
          spec: Type.Optional(ProfileSpec),
        }),
        response: { 200: ProfileSchema },
      },
    },
    async (req) => s.profiles.update(await s.principal(req), req.params.id, req.body),
  )

  app.delete(
    '/api/v1/profiles/:id',
    {
      schema: {
        tags: ['profiles'],
        summary: 'Delete a device profile no device uses (409 while one does)',
        params: IdParams,
        response: { 204: Type.Null({ description: 'deleted' }) },
      },
    },
    async (req, reply) => {
      s.profiles.delete(await s.principal(req), req.params.id)
      return reply.status(204).send(null)
    },
  )
}
