import type { ApiClient } from './api-client.js'

let paths: Promise<ReadonlySet<string>> | undefined

/**
 * Whether the node's API has a route (from its OpenAPI document, read once), so a page can leave
 * out a panel for a feature the node does not have (alarms on an older node) without a 404.
 *
 * @example
 * if (await hasApiRoute(api, '/api/v1/alarms/summary')) showAlarmTile()
 */
export function hasApiRoute(api: ApiClient, path: string): Promise<boolean> {
  paths ??= api
    .get<{ paths?: Record<string, unknown> }>('/api/v1/openapi.json')
    .then((doc) => new Set(Object.keys(doc.paths ?? {})))
    .catch((err: unknown) => {
      paths = undefined
      throw err
    })
  return paths.then((p) => p.has(path))
}
