import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import mqtt, { type MqttClient } from 'mqtt'
import { startNode, type StrataNode } from '../../src/index.js'

/** A node on ephemeral ports in a fresh folder, closed and deleted after the test. */
export async function startTestNode(
  t: TestContext,
  options: { clock?: () => number } = {},
): Promise<StrataNode & { dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'strata-node-'))
  const node = await startNode({
    dataDir,
    host: '127.0.0.1',
    mqttPort: 0,
    mqttsPort: 0,
    httpPort: 0,
    ...options,
  })
  t.after(async () => {
    await node.close()
    await rm(dataDir, { recursive: true, force: true })
  })
  return Object.assign(node, { dataDir })
}

/** A small client of the node's HTTP API that throws on unexpected statuses. */
export function apiClient(baseUrl: string, token?: string) {
  const call = async (method: string, path: string, body?: unknown, expect = [200, 201, 204]) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    const json: any = text === '' ? undefined : JSON.parse(text)
    if (!expect.includes(res.status))
      throw new Error(`${method} ${path} → ${String(res.status)} ${text}`)
    return { status: res.status, body: json, headers: res.headers }
  }
  return {
    get: (path: string, expect?: number[]) => call('GET', path, undefined, expect),
    post: (path: string, body?: unknown, expect?: number[]) =>
      call('POST', path, body ?? {}, expect),
    patch: (path: string, body: unknown, expect?: number[]) => call('PATCH', path, body, expect),
    delete: (path: string, expect?: number[]) => call('DELETE', path, undefined, expect),
  }
}

export const adminPassword = 'correct horse battery staple'

/** Setup with the node's token, then log in: an API client as the first admin. */
export async function adminOf(node: StrataNode) {
  const anon = apiClient(node.httpUrl)
  await anon.post('/api/v1/setup', {
    setupToken: node.setupToken,
    email: 'admin@example.com',
    password: adminPassword,
  })
  const login = await anon.post('/api/v1/auth/login', {
    email: 'admin@example.com',
    password: adminPassword,
  })
  return apiClient(node.httpUrl, login.body.token as string)
}

/**
 * A second tenant, `acme`, made by the platform admin, with an admin of its own, logged in: the
 * login response (`body.token` is the session). For tests that one tenant sees nothing of another.
 */
export async function otherTenantLogin(node: StrataNode, admin: ReturnType<typeof apiClient>) {
  await admin.post('/api/v1/tenants', { id: 'acme', name: 'Acme' })
  await admin.post('/api/v1/users', {
    email: 'boss@acme.example',
    password: 'acme acme acme acme',
    role: 'admin',
    tenantId: 'acme',
  })
  return apiClient(node.httpUrl).post('/api/v1/auth/login', {
    email: 'boss@acme.example',
    password: 'acme acme acme acme',
  })
}

/**
 * Registers a device, issues its token and connects it over MQTT 5 with it (no reconnects); the
 * caller closes the client.
 */
export async function connectDeviceWithToken(
  mqttUrl: string,
  admin: ReturnType<typeof apiClient>,
  id: string,
): Promise<MqttClient> {
  const token = await deviceWithToken(admin, id)
  return mqtt.connectAsync(mqttUrl, {
    protocolVersion: 5,
    clientId: id,
    username: id,
    password: token,
    reconnectPeriod: 0,
  })
}

/** Registers a device and issues its token. */
export async function deviceWithToken(
  admin: ReturnType<typeof apiClient>,
  id: string,
): Promise<string> {
  await admin.post('/api/v1/devices', { id })
  const created = await admin.post(`/api/v1/devices/${id}/tokens`, {})
  return created.body.token as string
}

export function portOf(url: string): number {
  return Number(new URL(url).port)
}

/** Publishes one QoS 1 telemetry message as a device would with nothing but mosquitto_pub. */
export async function mosquittoPub(
  node: StrataNode,
  deviceId: string,
  token: string,
  message: string,
): Promise<void> {
  await promisify(execFile)('mosquitto_pub', [
    ...['-h', '127.0.0.1', '-p', String(portOf(node.mqttUrl)), '-V', 'mqttv5', '-q', '1'],
    ...['-i', deviceId, '-u', deviceId, '-P', token],
    ...['-t', `strata/v1/devices/${deviceId}/telemetry`, '-m', message],
  ])
}
