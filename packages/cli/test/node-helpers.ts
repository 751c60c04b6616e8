import { startNode, type StrataNode } from '@strata/cloud'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { runCli } from '../src/index.js'

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

/** Runs `strata ARGS` in this process and captures what it prints. */
export async function runStrata(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        add(chunk.toString())
        done()
      },
    })
  const code = await runCli(args, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
  })
  return { code, stdout, stderr }
}

/** Polls `check` until it gives a value, or fails after `ms` naming `what`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${String(ms)} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
