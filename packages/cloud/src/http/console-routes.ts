import fastifyStatic from '@fastify/static'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Api } from './api-types.js'

/**
 * The Content-Security-Policy of every console response: scripts, styles and everything else from
 * this origin only, no inline scripts or style attributes, WebSockets back to this host for the
 * live feed, no framing. uPlot's inline styles are set through the CSSOM, which CSP allows.
 */
export const consoleContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ')

/** Paths that belong to the API, never to the console: unknown ones stay problem+json 404s. */
const apiPrefixes = ['/api/', '/metrics']

/** How long a browser may keep a content-hashed asset (a new build has new names). */
const immutableCache = 'public, max-age=31536000, immutable'

export interface ConsoleRoutesOptions {
  /** The console build (the folder with index.html); undefined or missing: a page says to build it. */
  readonly buildDir?: string | undefined
}

/**
 * Where the `@strata/console` package keeps its build (`dist/www`), found through the package so
 * it works in the repo and when installed; undefined when the package is not there.
 */
export function consoleBuildDir(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('@strata/console/package.json')
    return join(dirname(manifest), 'dist', 'www')
  } catch {
    return undefined
  }
}

/**
 * Serves the web console: `/` and every non-API path answer index.html (the console routes in the
 * browser), `/assets/*` are content-hashed files cached for a year, index.html is revalidated
 * every time. Every console response carries a strict CSP, `nosniff` and `no-referrer`. Without a
 * build, `/` explains how to make one.
 */
export async function registerConsoleRoutes(
  app: Api,
  options: ConsoleRoutesOptions = { buildDir: consoleBuildDir() },
): Promise<void> {
  const root = options.buildDir
  const built = root !== undefined && existsSync(join(root, 'index.html'))
  await app.register(async (scope) => {
    if (built) await scope.register(fastifyStatic, { root, serve: false })
    // Runs after the API's own onSend hook (a parent's hooks run first), so the cache header the
    // API sets on everything (no-store) is replaced here for console files.
    scope.addHook('onSend', async (req, reply) => {
      reply.header('content-security-policy', consoleContentSecurityPolicy)
      reply.header('x-content-type-options', 'nosniff')
      reply.header('referrer-policy', 'no-referrer')
      reply.header('x-frame-options', 'DENY')
      reply.header('cross-origin-opener-policy', 'same-origin')
      if (reply.statusCode === 200)
        reply.header('cache-control', isAsset(req) ? immutableCache : 'no-cache')
    })
    scope.get('/', { schema: { hide: true } }, (req, reply) => page(req, reply))
    scope.get('/*', { schema: { hide: true } }, (req, reply) => page(req, reply))
  })

  function page(req: FastifyRequest, reply: FastifyReply) {
    const path = pathOf(req)
    if (apiPrefixes.some((p) => path.startsWith(p))) {
      reply.callNotFound()
      return reply
    }
    if (!built) return reply.status(503).type('text/html; charset=utf-8').send(notBuiltPage)
    if (isAsset(req) || isRootFile(root, path)) {
      return reply.sendFile(path.slice(1), { cacheControl: false, dotfiles: 'deny' })
    }
    // A console route (/devices/pump-7): the browser-side router draws it.
    return reply.type('text/html; charset=utf-8').sendFile('index.html', { cacheControl: false })
  }
}

function pathOf(req: FastifyRequest): string {
  return req.url.split('?')[0] ?? '/'
}

function isAsset(req: FastifyRequest): boolean {
  return pathOf(req).startsWith('/assets/')
}

/** A file at the top of the build (favicon.svg), not a route; `..` never gets this far. */
function isRootFile(root: string | undefined, path: string): boolean {
  if (root === undefined || !/^\/[\w.-]+\.\w+$/.test(path) || path.startsWith('/.')) return false
  try {
    return statSync(join(root, path)).isFile()
  } catch {
    return false
  }
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strata: the console is not built</title></head>
<body><main>
<h1>The web console is not built</h1>
<p>This node serves the console from the <code>@strata/console</code> package's build, and there is none.
Build it from the repository with:</p>
<pre>npm run build</pre>
<p>then reload this page. The HTTP API works without it: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</main></body></html>
`
