import { startNode, type StrataNode } from '@strata/cloud'
import { join } from 'node:path'

/** A JSON call to the node's HTTP API that throws on any status ≥ 300. */
export type ApiCall = (method: string, path: string, body?: unknown) => Promise<any>

export function apiCall(baseUrl: string, token?: string): ApiCall {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (res.status >= 300) throw new Error(`${method} ${path} → ${String(res.status)} ${text}`)
    return text === '' ? undefined : JSON.parse(text)
  }
}

/** A node on ports 0 in `root/node`, set up, and the first admin's session token and API calls. */
export async function startNodeWithAdmin(
  root: string,
): Promise<{ node: StrataNode; token: string; api: ApiCall }> {
  const node = await startNode({
    dataDir: join(root, 'node'),
    host: '127.0.0.1',
    mqttPort: 0,
    mqttsPort: 0,
    httpPort: 0,
  })
  const anon = apiCall(node.httpUrl)
  const email = 'admin@example.com'
  const password = 'correct horse battery staple'
  await anon('POST', '/api/v1/setup', { setupToken: node.setupToken, email, password })
  const { token } = await anon('POST', '/api/v1/auth/login', { email, password })
  return { node, token: token as string, api: apiCall(node.httpUrl, token as string) }
}
