// The console's static serving without a build: `/` says how to make one, API 404s stay problems.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Api } from '../../src/http/api-types.js'
import { consoleBuildDir, registerConsoleRoutes } from '../../src/http/console-routes.js'

describe('console routes', () => {
  it('answers a page that says to run npm run build when the console is not built', async (t) => {
    const app = Fastify().withTypeProvider<TypeBoxTypeProvider>() as unknown as Api
    t.after(() => app.close())
    await registerConsoleRoutes(app, { buildDir: '/nonexistent/strata-console' })
    const page = await app.inject({ method: 'GET', url: '/devices/pump-7' })
    assert.equal(page.statusCode, 503)
    assert.match(page.body, /npm run build/)
    assert.match(page.headers['content-security-policy'] as string, /script-src 'self'/)
    const api = await app.inject({ method: 'GET', url: '/api/v1/nothing' })
    assert.equal(api.statusCode, 404)
  })

  it('finds the build through the @strata/console package', () => {
    assert.match(consoleBuildDir() ?? '', /packages\/console\/dist\/www$/)
  })
})
