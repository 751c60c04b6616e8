import type { Api, HttpServices } from '../api-types.js'
import { Problem } from '../problem.js'

/**
 * `GET /api/v1/live`: the live feed, a WebSocket (docs/node.md, "Live feed"). Authentication
 * happens on the socket (a bearer token on the upgrade, or a first `auth` frame), so a browser,
 * which cannot set headers on a WebSocket, can use it too. A plain GET without the upgrade is a
 * 426 that says so.
 */
export function registerLiveRoutes(app: Api, services: HttpServices): void {
  app.route({
    method: 'GET',
    url: '/api/v1/live',
    schema: {
      tags: ['live'],
      summary: 'The live feed (WebSocket)',
      description:
        'Upgrade to a WebSocket; authenticate with `Authorization: Bearer` on the upgrade or a first frame `{"type":"auth","token":"…"}`, then subscribe to telemetry, twin, presence, commands and alarms events. Never put a token in the URL. Frames and close codes: docs/node.md, "Live feed".',
      security: [{ bearer: [] }, {}],
      response: { 426: Problem },
    },
    handler: async (_request, reply) =>
      reply.status(426).header('upgrade', 'websocket').type('application/problem+json').send({
        type: 'urn:strata:error:CLOUD_INVALID',
        title: 'Upgrade Required',
        status: 426,
        code: 'CLOUD_INVALID',
        detail: '/api/v1/live is a WebSocket endpoint',
        hint: 'Connect with a WebSocket client (ws://…/api/v1/live); see docs/node.md, "Live feed".',
      }),
    wsHandler: (socket, request) => {
      services.live.accept(socket, request)
    },
  })
}
