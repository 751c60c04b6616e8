import { ProvisioningRequest } from '@strata/protocol'
import Type from 'typebox'
import { CloudError } from '../../errors.js'
import { parseToken } from '../../secrets/token-format.js'
import type { Api, HttpServices } from '../api-types.js'
import { tokenOf } from '../authenticate.js'
import { optionalBody } from '../optional-body.js'
import { IdParams, Labels, Nullable } from '../schemas.js'

const Certificate = Type.Object({
  serialNumber: Type.String(),
  tenantId: Type.String(),
  deviceId: Type.String(),
  fingerprintSha256: Type.String(),
  notBefore: Type.Integer(),
  notAfter: Type.Integer(),
  createdAt: Type.Integer(),
  revokedAt: Nullable(Type.Integer()),
  revokeReason: Nullable(Type.String()),
})
const Issued = Type.Object({
  certificate: Certificate,
  certificatePem: Type.String(),
  caChain: Type.Array(Type.String()),
})
const Claim = Type.Object({
  id: Type.String(),
  tenantId: Type.String(),
  name: Type.String(),
  labels: Labels,
  maxUses: Type.Integer(),
  uses: Type.Integer(),
  createdAt: Type.Integer(),
  expiresAt: Type.Integer(),
  revokedAt: Nullable(Type.Integer()),
})
const Csr = Type.String({
  minLength: 64,
  maxLength: 8192,
  pattern: '^-----BEGIN CERTIFICATE REQUEST-----',
})

/** Device certificates, claim tokens, and claim-based provisioning over HTTPS. */
export function registerCredentialRoutes(app: Api, s: HttpServices): void {
  app.get(
    '/api/v1/ca',
    {
      schema: {
        tags: ['identity'],
        summary: "The CA chain devices trust (PEM): Strata's intermediate and root",
        response: { 200: Type.Object({ caChainPem: Type.String() }) },
      },
    },
    () => ({ caChainPem: s.certificates.caChainPem() }),
  )

  app.post(
    '/api/v1/devices/:id/certificates',
    {
      schema: {
        tags: ['identity'],
        summary:
          'Issue a certificate from a CSR made on the device (also how it rotates before expiry)',
        params: IdParams,
        body: Type.Object({
          csr: Csr,
          validityDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
        }),
        response: { 201: Issued },
      },
    },
    async (req, reply) =>
      reply
        .status(201)
        .send(
          await s.certificates.issue(
            await s.principal(req),
            req.params.id,
            req.body.csr,
            req.body.validityDays,
          ),
        ),
  )

  app.get(
    '/api/v1/devices/:id/certificates',
    {
      schema: {
        tags: ['identity'],
        summary: "A device's certificates, newest first",
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(Certificate) }) },
      },
    },
    async (req) => ({ items: s.certificates.list(await s.principal(req), req.params.id) }),
  )

  app.post(
    '/api/v1/devices/:id/certificates/:serial/revoke',
    {
      schema: {
        tags: ['identity'],
        summary: 'Revoke a certificate: the live session is cut, the next connect refused',
        params: Type.Object({
          id: Type.String({ maxLength: 64 }),
          serial: Type.String({ pattern: '^[0-9a-fA-F]{1,64}$' }),
        }),
        body: Type.Optional(
          Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }),
        ),
        response: { 200: Certificate },
      },
    },
    async (req) =>
      s.certificates.revoke(
        await s.principal(req),
        req.params.id,
        req.params.serial,
        optionalBody<{ reason?: string }>(req.body)?.reason ?? '',
      ),
  )

  app.get(
    '/api/v1/claims',
    {
      schema: {
        tags: ['identity'],
        summary: 'Claim tokens of your tenant (never their secrets)',
        response: { 200: Type.Object({ items: Type.Array(Claim) }) },
      },
    },
    async (req) => ({ items: s.certificates.listClaims(await s.principal(req)) }),
  )

  app.post(
    '/api/v1/claims',
    {
      schema: {
        tags: ['identity'],
        summary:
          'Create a claim token for devices to provision themselves; its secret is in this reply only',
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 200 }),
          maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
          expiresInHours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 2160 })),
          labels: Type.Optional(Labels),
        }),
        response: { 201: Type.Object({ token: Type.String(), claim: Claim }) },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await s.certificates.createClaim(await s.principal(req), req.body)),
  )

  app.delete(
    '/api/v1/claims/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Revoke a claim token',
        params: IdParams,
        response: { 200: Claim },
      },
    },
    async (req) => s.certificates.revokeClaim(await s.principal(req), req.params.id),
  )

  app.post(
    '/api/v1/provisioning/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Provision device `id` with a claim token (Authorization: Bearer scl_…) and a CSR',
        params: IdParams,
        body: ProvisioningRequest,
        response: {
          201: Type.Object({
            deviceId: Type.String(),
            certificate: Type.String(),
            caChain: Type.Array(Type.String()),
          }),
        },
      },
    },
    async (req, reply) => {
      const token = tokenOf(req) ?? ''
      if (parseToken(token)?.kind !== 'claim') {
        throw new CloudError('CLOUD_UNAUTHENTICATED', 'provisioning needs a claim token', {
          hint: 'Send `Authorization: Bearer scl_…`.',
        })
      }
      const claim = await s.verifyClaim(token)
      const issued = await s.certificates.provision(claim, req.params.id, req.body)
      return reply.status(201).send({
        deviceId: issued.deviceId,
        certificate: issued.certificatePem,
        caChain: [...issued.caChain],
      })
    },
  )
}
