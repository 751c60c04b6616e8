// The web console in Debian's Chromium against a real `strata up` on ports 0: the newcomer's path
// (setup token → admin → a device and its token shown once → the device publishes over MQTT → its
// live chart draws the points → a command → the device's reply shown), the twin's conflict
// handling, login failures and session expiry, and a viewer token that sees no admin actions (and
// that the API refuses anyway). Every page fails the test on a console error or a CSP violation.
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import {
  connectDevice,
  consoleContext,
  launchChromium,
  PageProblems,
  repoRoot,
  screenshot,
  strataUp,
  type StrataUp,
  type TestDevice,
  apiCall,
  loginToken,
} from './console-helpers.js'

const email = 'admin@example.com'
const password = 'correct horse battery staple'

let up: StrataUp
let browser: Browser
let device: TestDevice | undefined
let deviceToken = ''

const api = (method: string, path: string, token: string, body?: unknown) =>
  apiCall(up.http, method, path, token, body)

const adminToken = (): Promise<string> => loginToken(up.http, email, password)

async function pointCount(page: Page, metric: string): Promise<number> {
  return Number(
    await page.locator(`figure.chart[data-metric="${metric}"]`).getAttribute('data-point-count'),
  )
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(ms)} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

before(async () => {
  ;[up, browser] = await Promise.all([strataUp(), launchChromium()])
})

after(async () => {
  await device?.close()
  await browser.close()
  await up.stop()
})

describe('the web console', { timeout: 240_000 }, () => {
  it("walks the newcomer's path: setup, a device, its live chart, a command and its reply", async () => {
    const problems = new PageProblems()
    // The browser logs the 412 of the twin conflict this test provokes on purpose.
    problems.expect(/status of 412 .*\/twin\/desired/)
    const { context, page } = await consoleContext(browser, problems)
    try {
      await page.goto(up.http)
      await page.getByRole('heading', { name: 'Set up Strata' }).waitFor()
      await page.getByLabel('Setup token').fill(up.setupToken)
      await page.getByLabel('Admin email').fill(email)
      await page.getByLabel('Password', { exact: true }).fill(password)
      await page.getByLabel('Password again').fill(password)
      await screenshot(page, 'setup')
      await page.getByRole('button', { name: 'Create the admin' }).click()
      await page.getByRole('heading', { name: 'Fleet overview' }).waitFor()
      await page.locator('.live-live').waitFor()

      // Register a device; its token is shown once.
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Devices' })
        .click()
      await page.getByRole('heading', { name: 'Devices' }).waitFor()
      await page.getByRole('button', { name: 'Register a device' }).click()
      await page.getByLabel('Device id').fill('pump-7')
      await page.getByLabel('Name (optional)').fill('Pump 7')
      await page.getByLabel('Labels (optional)').fill('site=berlin, tier=prod')
      await page.getByRole('button', { name: 'Register', exact: true }).click()
      const secret = page.locator('input[data-secret]')
      await secret.waitFor()
      deviceToken = await secret.inputValue()
      assert.match(deviceToken, /\S{20,}/)
      await screenshot(page, 'device-token-shown-once')
      await page.getByRole('button', { name: 'I have stored it' }).click()
      assert.equal(
        await page.locator('input[data-secret]').count(),
        0,
        'the token is not shown again',
      )
      await page.getByRole('link', { name: 'pump-7' }).waitFor()
      await screenshot(page, 'devices')

      // The device page, then the device connects and publishes: the chart draws its points.
      await page.getByRole('link', { name: 'pump-7' }).click()
      await page.getByRole('heading', { name: 'Pump 7 (pump-7)' }).waitFor()
      await page.getByTestId('no-telemetry').waitFor()
      device = await connectDevice(up.mqtt, 'pump-7', deviceToken)
      await device.sendTelemetry({ temp: 21.5, pressure: 1.2 })
      await page.locator('figure.chart[data-metric="temp"]').waitFor()
      await waitFor(
        async () => (await pointCount(page, 'temp')) >= 1,
        20_000,
        'the first point on the chart',
      )
      const before = await pointCount(page, 'temp')
      await device.sendTelemetry({ temp: 22.25 }, Date.now() + 1500)
      await waitFor(
        async () => (await pointCount(page, 'temp')) > before,
        20_000,
        'a live point appended',
      )
      await page.getByTestId('presence').getByText('online').waitFor()
      await page.getByTestId('presence-history').getByText('online').first().waitFor()
      // The connection history is the node's too: it is there after a reload.
      await page.reload()
      await page.getByRole('heading', { name: 'Pump 7 (pump-7)' }).waitFor()
      await page.getByTestId('presence-history').getByText('(connected)').first().waitFor()

      // A command, answered by the device: its status and reply are shown.
      await page.getByRole('textbox', { name: 'Command', exact: true }).fill('reboot')
      await page.getByLabel('Params (JSON object)').fill('{"delayS": 1}')
      await page.getByRole('button', { name: 'Send' }).click()
      const row = page.locator('tr[data-status="succeeded"]').filter({ hasText: 'reboot' })
      await row.waitFor({ timeout: 30_000 })
      assert.match(await row.getByTestId('command-result').innerText(), /"answeredBy": "pump-7"/)

      // Twin: edit desired with If-Match; a change made meanwhile is a clear conflict with a reload.
      await page.getByRole('button', { name: 'Edit desired' }).click()
      await page.getByLabel(/Merge patch for desired/).fill('{"interval": 30}')
      await page.getByRole('button', { name: 'Save desired' }).click()
      await page.getByTestId('twin-desired').getByText('"interval": 30').waitFor()
      await page.getByRole('button', { name: 'Edit desired' }).click()
      const admin = await adminToken()
      const patched = await api('PATCH', '/api/v1/devices/pump-7/twin/desired', admin, {
        mode: 'eco',
      })
      assert.equal(patched.status, 200)
      await page.getByLabel(/Merge patch for desired/).fill('{"interval": 60}')
      await page.getByRole('button', { name: 'Save desired' }).click()
      await page.getByText('Someone changed the desired state').waitFor()
      await page.getByRole('button', { name: 'Reload the twin' }).click()
      await page.getByTestId('twin-desired').getByText('"mode": "eco"').waitFor()
      await page.getByRole('button', { name: 'Cancel' }).click()

      const dismiss = page.getByRole('button', { name: 'Dismiss' })
      while ((await dismiss.count()) > 0) await dismiss.first().click()
      await page.evaluate('window.scrollTo(0, 0)')
      await screenshot(page, 'device')
      // The README's picture: rewritten only when asked, so that a test run leaves the tree clean.
      if (process.env['STRATA_UPDATE_SCREENSHOTS'] === '1') {
        // an hour of history first, one reading a minute, so that the charts show a day's shape
        const now = Date.now()
        for (let m = 60; m >= 1; m--) {
          const phase = m / 9
          await device.sendTelemetry(
            {
              temp: Math.round((21.5 + 1.5 * Math.sin(phase) + (m % 7) / 20) * 100) / 100,
              pressure:
                Math.round((1.2 + 0.15 * Math.cos(phase / 2) + (m % 5) / 100) * 1000) / 1000,
            },
            now - m * 60_000,
          )
        }
        await page.getByRole('button', { name: '1 h', exact: true }).click()
        await waitFor(
          async () => (await pointCount(page, 'temp')) >= 30,
          20_000,
          'the hour of history on the chart',
        )
        await page.screenshot({ path: join(repoRoot, 'docs', 'console.png') })
        assert.ok(
          statSync(join(repoRoot, 'docs', 'console.png')).size < 300 * 1024,
          'docs/console.png under 300 KB',
        )
      }

      // Disable, behind a confirmation.
      await page.getByRole('button', { name: 'Disable' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Disable' }).click()
      await page.getByTestId('device-state').getByText('disabled').waitFor()
      await page.getByRole('button', { name: 'Enable' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Enable' }).click()
      await page.getByTestId('device-state').getByText('provisioned').waitFor()

      // The overview counts the device.
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Overview' })
        .click()
      await page.getByTestId('devices-online').getByText('/ 1').waitFor()
      await screenshot(page, 'overview')

      // Pages that are not there: a clear 404, and the OTA places.
      await page.goto(`${up.http}/no-such-page`)
      await page.getByRole('heading', { name: 'No such page' }).waitFor()
      await screenshot(page, 'not-found')
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: /Firmware/ })
        .click()
      await page.getByText('Coming with OTA.').waitFor()
      await screenshot(page, 'firmware')
      assert.deepEqual(problems.problems, [])
    } finally {
      await context.close()
    }
  })

  it('says a wrong password is wrong, logs in and out, and sends an ended session back to login', async () => {
    const problems = new PageProblems()
    // The browser logs the refused login's and the dead session's 401 responses.
    problems.expect(/status of 401 .*\/api\/v1\/(auth\/login|me)/)
    const { context, page } = await consoleContext(browser, problems)
    try {
      await page.goto(up.http)
      await page.getByRole('heading', { name: 'Log in to Strata' }).waitFor()
      await page.getByLabel('Email').fill(email)
      await page.getByLabel('Password').fill('not the password')
      await page.getByRole('button', { name: 'Log in', exact: true }).click()
      await page.getByText('Wrong email or password.').waitFor()
      await screenshot(page, 'login-failed')
      await page.getByLabel('Password').fill(password)
      await page.getByRole('button', { name: 'Log in', exact: true }).click()
      await page.getByRole('heading', { name: 'Fleet overview' }).waitFor()
      // A reload keeps the session (sessionStorage), a dead token goes back to login with a message.
      await page.reload()
      await page.getByRole('heading', { name: 'Fleet overview' }).waitFor()
      await page.evaluate(
        "sessionStorage.setItem('strata.console.session', JSON.stringify({ token: 'sst_dead', expiresAt: null, label: 'x' }))",
      )
      await page.reload()
      await page.getByText('Your session has ended').waitFor()
      await page.getByLabel('Email').fill(email)
      await page.getByLabel('Password').fill(password)
      await page.getByRole('button', { name: 'Log in', exact: true }).click()
      await page.getByRole('button', { name: 'Log out' }).click()
      await page.getByText('You are logged out.').waitFor()
      assert.equal(await page.evaluate("sessionStorage.getItem('strata.console.session')"), null)
      assert.deepEqual(problems.problems, [])
    } finally {
      await context.close()
    }
  })

  it('shows a viewer token no admin actions, and the API refuses them anyway', async () => {
    const admin = await adminToken()
    const created = await api('POST', '/api/v1/tokens', admin, {
      name: 'wall screen',
      role: 'viewer',
    })
    assert.equal(created.status, 201)
    const viewer = created.body.token as string
    const problems = new PageProblems()
    const { context, page } = await consoleContext(browser, problems)
    try {
      await page.goto(up.http)
      await page.getByRole('button', { name: 'Use an API token instead' }).click()
      await page.getByLabel('API token').fill(viewer)
      await page.getByRole('button', { name: 'Log in', exact: true }).click()
      await page.getByRole('heading', { name: 'Fleet overview' }).waitFor()
      assert.equal(await page.locator('.who .tag').innerText(), 'viewer')
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Devices' })
        .click()
      await page.getByRole('link', { name: 'pump-7' }).waitFor()
      assert.equal(await page.getByRole('button', { name: 'Register a device' }).count(), 0)
      await page.getByRole('link', { name: 'pump-7' }).click()
      await page.getByTestId('twin-desired').waitFor()
      await page.locator('figure.chart[data-metric="temp"]').waitFor()
      for (const name of ['Disable', 'Revoke', 'Edit desired', 'Send', 'Issue a token'])
        assert.equal(
          await page.getByRole('button', { name, exact: true }).count(),
          0,
          `no ${name} button`,
        )
      await screenshot(page, 'device-as-viewer')
      const refused = [
        await api('POST', '/api/v1/devices', viewer, { id: 'sneaky' }),
        await api('POST', '/api/v1/devices/pump-7/disable', viewer, {}),
        await api('POST', '/api/v1/devices/pump-7/commands', viewer, { name: 'reboot' }),
        await api('PATCH', '/api/v1/devices/pump-7/twin/desired', viewer, { interval: 1 }),
      ]
      assert.deepEqual(
        refused.map((r) => r.status),
        [403, 403, 403, 403],
      )
      assert.deepEqual(problems.problems, [])
    } finally {
      await context.close()
    }
  })

  it('serves the console with a strict CSP, long-cached hashed assets and API 404s as problems', async () => {
    const index = await fetch(`${up.http}/devices/pump-7`)
    assert.equal(index.status, 200)
    assert.match(
      index.headers.get('content-security-policy') ?? '',
      /default-src 'self'; script-src 'self'; style-src 'self'/,
    )
    assert.equal(index.headers.get('cache-control'), 'no-cache')
    assert.equal(index.headers.get('referrer-policy'), 'no-referrer')
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff')
    const html = await index.text()
    assert.doesNotMatch(html, /style=|<script>|<style/, 'no inline scripts or styles')
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    assert.ok(script)
    const asset = await fetch(`${up.http}${script}`)
    assert.equal(asset.status, 200)
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable')
    await asset.arrayBuffer()
    const missing = await fetch(`${up.http}/api/v1/no-such-thing`)
    assert.equal(missing.status, 404)
    assert.equal(((await missing.json()) as { code: string }).code, 'CLOUD_NOT_FOUND')
  })
})
