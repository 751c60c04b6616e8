// What the console's browser tests share: a real `strata up` on ports 0 in its own process, one
// Chromium per test file (Debian's, driven by playwright-core), pages that fail the test on any
// console error or CSP violation, screenshots that also fail it on any WCAG 2.1 A/AA problem
// axe-core finds, and a device on MQTT.js that sends telemetry and answers commands.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt, { type MqttClient } from 'mqtt'
import {
  chromium,
  type Browser,
  type BrowserContext,
  type ConsoleMessage,
  type Page,
} from 'playwright-core'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
export const artifactsDir = fileURLToPath(new URL('../test-artifacts/', import.meta.url))

export interface StrataUp {
  readonly http: string
  readonly mqtt: string
  readonly setupToken: string
  readonly dataDir: string
  stop(): Promise<void>
}

/** `strata up --json` on ports 0 in a fresh folder, from the sources (as `npm test` runs them). */
export async function strataUp(): Promise<StrataUp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'strata-console-'))
  const cli =
    "import('@strata/cli').then(async ({ runCli }) => { process.exitCode = await runCli(process.argv.slice(1), { stdout: process.stdout, stderr: process.stderr }) })"
  const args = [
    'up',
    '--data',
    dataDir,
    '--host',
    '127.0.0.1',
    '--mqtt-port',
    '0',
    '--mqtts-port',
    '0',
    '--http-port',
    '0',
  ]
  const child = spawn(
    process.execPath,
    [
      '--conditions=strata-source',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      cli,
      ...args,
      '--log-level',
      'warn',
      '--json',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const info = await new Promise<{ http: string; mqtt: string; setupToken: string }>(
    (resolve, reject) => {
      let out = ''
      let err = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n')[0]
        if (out.includes('\n') && line !== undefined) resolve(JSON.parse(line))
      })
      child.stderr.on('data', (d: Buffer) => (err += d.toString()))
      child.once('exit', (code) =>
        reject(new Error(`strata up exited ${String(code)}: ${out} ${err}`)),
      )
    },
  )
  return {
    ...info,
    dataDir,
    stop: async () => {
      await stopChild(child)
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** Debian's Chromium, headless, with the flags BRIEF §7 asks for. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 120_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** Console errors, uncaught page errors and CSP violations of the pages of one context. */
export class PageProblems {
  readonly problems: string[] = []
  /** Errors a test expects (e.g. the 401 of a wrong password), by a pattern of their text or URL. */
  readonly #expected: RegExp[] = []

  expect(pattern: RegExp): void {
    this.#expected.push(pattern)
  }

  watch(page: Page): void {
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() !== 'error') return
      const text = `${m.text()} (${m.location().url})`
      if (!this.#expected.some((p) => p.test(text))) this.problems.push(text)
    })
    page.on('pageerror', (err) => this.problems.push(`page error: ${err.message}`))
  }
}

/** A browser context at 1280×800 whose pages report CSP violations as console errors. */
export async function consoleContext(
  browser: Browser,
  problems: PageProblems,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  context.setDefaultTimeout(30_000)
  await context.addInitScript({
    content:
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))",
  })
  const page = await context.newPage()
  problems.watch(page)
  return { context, page }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true })
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), fullPage: true })
  // Every page a test photographs is also checked for accessibility, as it looks then.
  const found = await accessibilityViolations(page)
  assert.deepEqual(found, [], `accessibility problems on the ${name} page`)
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
)

/**
 * The WCAG 2.1 A and AA rules that axe-core (the engine behind Lighthouse's and most browsers'
 * accessibility audits) finds broken on the page as it is now: contrast, names, labels, roles,
 * keyboard reach of scrollable regions, and so on.
 */
export async function accessibilityViolations(
  page: Page,
): Promise<{ id: string; impact: string | null; help: string; targets: string[] }[]> {
  // Evaluated through the browser's debugging protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource)
  return page.evaluate(async () => {
    const win = globalThis as unknown as {
      axe: { run: (...a: unknown[]) => Promise<any> }
      document: unknown
    }
    const result = await win.axe.run(win.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    })
    return (result.violations as any[]).map((v) => ({
      id: String(v.id),
      impact: (v.impact as string | null) ?? null,
      help: String(v.help),
      targets: (v.nodes as any[]).slice(0, 5).map((n) => JSON.stringify(n.target)),
    }))
  })
}

export interface TestDevice {
  readonly client: MqttClient
  sendTelemetry(values: Record<string, number>, ts?: number): Promise<void>
  close(): Promise<void>
}

/** One call to the node's HTTP API with a bearer token: status, parsed body, headers. */
export async function apiCall(
  baseUrl: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return {
    status: res.status,
    body: text === '' ? undefined : JSON.parse(text),
    headers: res.headers,
  }
}

/** Logs in with email and password: the session token. */
export async function loginToken(
  baseUrl: string,
  email: string,
  password: string,
): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  return ((await res.json()) as { token: string }).token
}

/**
 * A device on MQTT.js with nothing but its token (docs/protocol.md): publishes telemetry at QoS 1
 * and answers every command on the MQTT 5 response topic with `{status: 'succeeded', result}`.
 */
export async function connectDevice(
  mqttUrl: string,
  id: string,
  token: string,
): Promise<TestDevice> {
  const client = await mqtt.connectAsync(mqttUrl, {
    clientId: id,
    username: id,
    password: token,
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  })
  const ns = `strata/v1/devices/${id}`
  client.on('message', (topic, payload, packet) => {
    if (!topic.startsWith(`${ns}/commands/request/`)) return
    const request = JSON.parse(payload.toString()) as {
      id: string
      params?: Record<string, unknown>
    }
    const name = topic.slice(`${ns}/commands/request/`.length)
    const responseTopic =
      packet.properties?.responseTopic ?? `${ns}/commands/response/${request.id}`
    const correlationData = packet.properties?.correlationData
    void client.publishAsync(
      responseTopic,
      JSON.stringify({
        status: 'succeeded',
        result: { answeredBy: id, command: name, echo: request.params ?? {} },
      }),
      { qos: 1, ...(correlationData === undefined ? {} : { properties: { correlationData } }) },
    )
  })
  await client.subscribeAsync(`${ns}/commands/request/+`, { qos: 1 })
  return {
    client,
    sendTelemetry: async (values, ts = Date.now()) => {
      await client.publishAsync(`${ns}/telemetry`, JSON.stringify({ ts, values }), { qos: 1 })
    },
    close: () => client.endAsync(),
  }
}
