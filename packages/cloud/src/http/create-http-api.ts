import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import websocket from '@fastify/websocket'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify from 'fastify'
import type { Logger } from 'pino'
import { requirePermission } from '../accounts/roles.js'
import type { Api, HttpServices } from './api-types.js'
import { sendProblem } from './problem.js'
import { registerAccountRoutes } from './routes/account-routes.js'
import { registerAlarmRoutes } from './routes/alarm-routes.js'
import { registerAuditRoutes } from './routes/audit-routes.js'
import { registerCommandRoutes } from './routes/command-routes.js'
import { registerCredentialRoutes } from './routes/credential-routes.js'
import { registerDeviceRoutes } from './routes/device-routes.js'
import { registerGroupRoutes } from './routes/group-routes.js'
import { registerInfluxWriteRoutes } from './routes/influx-write-routes.js'
import { registerLiveRoutes } from './routes/live-routes.js'
import { registerConsoleRoutes } from './console-routes.js'
import { liveMaxFrameBytes } from '../live/live-feed.js'
import { registerProfileRoutes } from './routes/profile-routes.js'
import { registerRuleRoutes } from './routes/rule-routes.js'
import { registerTelemetryRoutes } from './routes/telemetry-routes.js'
import { registerTwinRoutes } from './routes/twin-routes.js'

export interface HttpApiOptions {
  /** Largest request body (default 4 MiB: an InfluxDB write batch). */
  readonly bodyLimitBytes: number
  /** Requests per minute per client address (default 6,000); login and setup get 20. */
  readonly requestsPerMinute: number
  readonly version: string
}

export const defaultHttpApiOptions: HttpApiOptions = {
  bodyLimitBytes: 4 * 1024 * 1024,
  requestsPerMinute: 6_000,
  version: '0.1.0',
}

/**
 * The node's HTTP API: `/api/v1` (OpenAPI 3.1 at `/api/v1/openapi.json`, generated from the same
 * TypeBox schemas that validate requests), the live feed (WebSocket) at `/api/v1/live`, the
 * InfluxDB v2 write endpoint `/api/v2/write`, and Prometheus metrics at `/metrics`. Every error is `application/problem+json`. Not listening yet:
 * the caller decides where.
 */
export async function createHttpApi(
  services: HttpServices,
  logger: Logger,
  options: Partial<HttpApiOptions> = {},
): Promise<Api> {
  const o = { ...defaultHttpApiOptions, ...options }
  const app = Fastify({
    // Per-request lines are not logged (info would be one line per request): errors are.
    loggerInstance: logger.child({ component: 'http' }, { level: 'warn' }),
    bodyLimit: o.bodyLimitBytes,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setErrorHandler((err, req, reply) => sendProblem(err, req, reply))
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .type('application/problem+json')
      .send({
        type: 'urn:strata:error:CLOUD_NOT_FOUND',
        title: 'Not Found',
        status: 404,
        code: 'CLOUD_NOT_FOUND',
        detail: `no route ${req.method} ${req.url.split('?')[0] ?? ''}`,
        hint: 'See /api/v1/openapi.json.',
      }),
  )
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store')
    reply.header('x-content-type-options', 'nosniff')
  })

  await app.register(rateLimit, {
    max: o.requestsPerMinute,
    timeWindow: 60_000,
    allowList: [],
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(new Error(`rate limit: ${String(ctx.max)} requests per ${ctx.after}`), {
        statusCode: 429,
      }),
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Strata API',
        version: o.version,
        description:
          'The HTTP API of a Strata node. Errors are application/problem+json with a `code` from docs/errors.md.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'A session token (POST /api/v1/auth/login) or an API token',
          },
        },
      },
      security: [{ bearer: [] }],
    },
  })

  await app.register(websocket, {
    // `ws` closes a connection that sends a larger frame with 1009.
    options: { maxPayload: liveMaxFrameBytes, perMessageDeflate: false },
    // Errors on an open socket (a frame too large, a client gone mid-frame): `ws` has already
    // closed it or is closing it; a socket still open after an error is ended.
    errorHandler: (err, socket, request) => {
      request.log.debug({ err }, 'live socket error')
      if (socket.readyState === socket.OPEN) socket.terminate()
    },
  })

  registerAccountRoutes(app, services)
  registerDeviceRoutes(app, services)
  registerProfileRoutes(app, services)
  registerGroupRoutes(app, services)
  registerTelemetryRoutes(app, services)
  registerTwinRoutes(app, services)
  registerCommandRoutes(app, services)
  registerAlarmRoutes(app, services)
  registerAuditRoutes(app, services)
  registerCredentialRoutes(app, services)
  registerInfluxWriteRoutes(app, services)
  registerLiveRoutes(app, services)
  registerRuleRoutes(app, services)
  // The web console (static build) on `/` and its routes; unknown /api paths stay 404s.
  await registerConsoleRoutes(app)

  app.get('/api/v1/openapi.json', { schema: { hide: true } }, () => app.swagger())
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    requirePermission(await services.principal(req), 'metrics:read')
    return reply.type(services.metrics.contentType).send(await services.metrics.metrics())
  })
  return app
}

export type { Api }
