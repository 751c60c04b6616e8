// The console's operations pages in Debian's Chromium against a real `strata up` on ports 0, with
// a device on MQTT.js: a rule made in the Rules page (first refused with the node's validation
// message beside the editor, then tried in a dry run) raises an alarm from the device's telemetry,
// the alarm appears on the Alarms page live, is acknowledged and commented on; an API token is
// created (shown once) and revoked; the audit log shows its entries and the verified chain; a
// viewer sees no write action. Every page fails the test on a console error or a CSP violation.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import {
  connectDevice,
  consoleContext,
  launchChromium,
  PageProblems,
  screenshot,
  strataUp,
  type StrataUp,
  type TestDevice,
  apiCall,
  loginToken,
} from './console-helpers.js'

const email = 'ops-admin@example.com'
const password = 'correct horse battery staple'
const deviceId = 'boiler-1'

let up: StrataUp
let browser: Browser
let device: TestDevice | undefined
let admin = ''

const api = (method: string, path: string, token: string, body?: unknown) =>
  apiCall(up.http, method, path, token, body)

const rule = (condition: string) =>
  JSON.stringify(
    {
      name: 'boiler-hot',
      description: 'A boiler above 80 °C',
      enabled: true,
      match: { topicKinds: ['telemetry'], metrics: ['temp'] },
      condition,
      actions: [
        { type: 'alarm', name: 'overheat', severity: 'critical', message: 'Boiler above 80 °C' },
      ],
    },
    null,
    2,
  )

const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click()

async function logIn(page: Page): Promise<void> {
  await page.goto(up.http)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
  await page.getByRole('heading', { name: 'Fleet overview' }).waitFor()
  await page.locator('.live-live').waitFor()
}

before(async () => {
  ;[up, browser] = await Promise.all([strataUp(), launchChromium()])
  const setup = await fetch(`${up.http}/api/v1/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ setupToken: up.setupToken, email, password }),
  })
  assert.equal(setup.status, 201)
  admin = await loginToken(up.http, email, password)
  assert.equal((await api('POST', '/api/v1/devices', admin, { id: deviceId })).status, 201)
  const issued = await api('POST', `/api/v1/devices/${deviceId}/tokens`, admin, {})
  assert.equal(issued.status, 201)
  device = await connectDevice(up.mqtt, deviceId, issued.body.token as string)
})

after(async () => {
  await device?.close()
  await browser.close()
  await up.stop()
})

describe(
  "the console's alarms, rules, users and tokens, and audit pages",
  { timeout: 240_000 },
  () => {
    it('makes a rule in the Rules page whose alarm appears live, is acknowledged and commented on', async () => {
      const problems = new PageProblems()
      // The browser logs the 400 of the bad rule this test saves on purpose.
      problems.expect(/status of 400 .*\/api\/v1\/rules/)
      const { context, page } = await consoleContext(browser, problems)
      try {
        await logIn(page)
        await nav(page, 'Rules')
        await page.getByRole('heading', { name: 'Rules', exact: true }).waitFor()
        await page.getByText('No rules yet.').waitFor()
        await page.getByRole('button', { name: 'New rule' }).click()

        // A condition that does not type-check: the node's message, next to the editor, text kept.
        const editor = page.getByLabel('Rule JSON')
        const bad = rule('nosuch(payload.temp)')
        await editor.fill(bad)
        await page.getByRole('button', { name: 'Create rule' }).click()
        const shown = page.getByTestId('rule-problems')
        await shown.getByText('/condition').waitFor()
        assert.match(await shown.innerText(), /Not saved\..*nosuch/s)
        assert.equal(await editor.inputValue(), bad, 'the text is kept')
        await screenshot(page, 'rule-validation')

        // A dry run of the fixed rule over two samples: the hot one matches.
        await editor.fill(rule('payload.temp > 80'))
        await page.getByLabel(/^Samples/).fill('[{"temp": 95}, {"temp": 20}]')
        await page.getByRole('button', { name: 'Dry run' }).click()
        const report = page.getByTestId('rule-report')
        await report.getByText('1 matched').waitFor()
        assert.equal(await report.locator('tr[data-matched="true"]').count(), 1)
        assert.equal(await report.locator('tr[data-matched="false"]').count(), 1)
        await screenshot(page, 'rule-dry-run')

        await page.getByRole('button', { name: 'Create rule' }).click()
        await page.getByRole('heading', { name: 'Rule boiler-hot' }).waitFor()
        await page.getByText('Version 1, changed').waitFor()

        // The Alarms page is open when the device gets hot: the alarm appears without a reload.
        await nav(page, 'Alarms')
        await page.getByRole('heading', { name: 'Alarms', exact: true }).waitFor()
        await page.getByText('No alarms match.').waitFor()
        await device?.sendTelemetry({ temp: 95 })
        const row = page.locator('tr').filter({ has: page.getByRole('link', { name: 'overheat' }) })
        await row.waitFor({ timeout: 20_000 })
        assert.equal(await row.getByTestId('alarm-status').innerText(), 'active')
        await row.getByText('Boiler above 80 °C').waitFor()
        await screenshot(page, 'alarms')

        await row.getByRole('button', { name: `Acknowledge overheat on ${deviceId}` }).click()
        await row.getByTestId('alarm-status').getByText('acknowledged').waitFor()
        assert.equal(await row.getByRole('button', { name: /^Acknowledge/ }).count(), 0)

        // The alarm's page: comment on it; it shows acknowledged, with the history.
        await row.getByRole('link', { name: 'overheat' }).click()
        await page.getByRole('heading', { name: `overheat on ${deviceId}` }).waitFor()
        await page.getByLabel('Comment', { exact: true }).fill('Valve checked, on my way')
        await page.getByRole('button', { name: 'Add comment' }).click()
        await page.getByTestId('alarm-comments').getByText('Valve checked, on my way').waitFor()
        assert.equal(await page.getByTestId('alarm-status').innerText(), 'acknowledged')
        const history = page.getByTestId('alarm-history')
        await history.getByText('commented').waitFor()
        await history.getByText('acknowledged').waitFor()
        await history.getByText('raised', { exact: true }).waitFor()
        await page.getByRole('link', { name: 'boiler-hot' }).waitFor()
        await screenshot(page, 'alarm')

        // A long history comes a page at a time: 100 more comments push the first changes to
        // a second page, which "Show older changes" brings.
        const alarmId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '')
        for (let i = 1; i <= 100; i++) {
          const r = await api('POST', `/api/v1/alarms/${alarmId}/comments`, admin, {
            text: `reading ${String(i)}`,
          })
          assert.equal(r.status, 201)
        }
        await history.getByText('reading 100').waitFor()
        await page.getByRole('button', { name: 'Show older changes' }).waitFor()
        assert.equal(await history.getByText('raised', { exact: true }).count(), 0)
        await page.getByRole('button', { name: 'Show older changes' }).click()
        await history.getByText('raised', { exact: true }).waitFor()
        assert.equal(await history.locator('li').count(), 103)
        assert.equal(await page.getByRole('button', { name: 'Show older changes' }).count(), 0)

        // The rule's stats say it ran and matched.
        await nav(page, 'Rules')
        const ruleRow = page
          .locator('tr')
          .filter({ has: page.getByRole('link', { name: 'boiler-hot' }) })
        await ruleRow.getByTestId('rule-health').getByText('ok').waitFor()
        assert.match(await ruleRow.innerText(), /1 \/ 1/)
        await screenshot(page, 'rules')
        await ruleRow.getByRole('link', { name: 'boiler-hot' }).click()
        await page.getByRole('heading', { name: 'Versions' }).waitFor()
        await screenshot(page, 'rule')
        assert.deepEqual(problems.problems, [])
      } finally {
        await context.close()
      }
    })

    it('creates an API token that is shown once, and revokes it; adds a user', async () => {
      const problems = new PageProblems()
      const { context, page } = await consoleContext(browser, problems)
      try {
        await logIn(page)
        await nav(page, 'Users & tokens')
        await page.getByRole('heading', { name: 'Users and API tokens' }).waitFor()
        await page.getByRole('cell', { name: new RegExp(email) }).waitFor()

        await page.getByRole('button', { name: 'Create a token' }).click()
        await page.getByLabel('Token name').fill('ci-bot')
        await page.getByLabel('Role').selectOption('operator')
        await page.getByLabel('Expires in (days)').fill('30')
        await page.getByRole('button', { name: 'Create token' }).click()
        const secret = page.locator('input[data-secret]')
        await secret.waitFor()
        const token = await secret.inputValue()
        assert.match(token, /\S{20,}/)
        assert.equal((await api('GET', '/api/v1/me', token)).body.role, 'operator')
        await screenshot(page, 'api-token-shown-once')
        await page.getByRole('button', { name: 'I have stored it' }).click()
        assert.equal(await page.locator('input[data-secret]').count(), 0, 'not shown again')

        const tokenRow = page.locator('tr[data-token="ci-bot"]')
        await tokenRow.getByText('active').waitFor()
        await tokenRow.getByRole('button', { name: 'Revoke ci-bot' }).click()
        await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click()
        await tokenRow.getByTestId('token-status').getByText('revoked').waitFor()
        assert.equal((await api('GET', '/api/v1/me', token)).status, 401)

        await page.getByRole('button', { name: 'Add a user' }).click()
        await page.getByLabel('Email').fill('operator@example.com')
        await page.getByLabel('Initial password').fill('another long passphrase')
        await page
          .getByRole('form', { name: 'Add a user' })
          .getByLabel('Role')
          .selectOption('operator')
        await page.getByRole('button', { name: 'Add user' }).click()
        await page.getByRole('cell', { name: 'operator@example.com', exact: true }).waitFor()
        await screenshot(page, 'access')
        assert.deepEqual(problems.problems, [])
      } finally {
        await context.close()
      }
    })

    it('shows the audit log with the chain verified, and searches it', async () => {
      const problems = new PageProblems()
      const { context, page } = await consoleContext(browser, problems)
      try {
        await logIn(page)
        await nav(page, 'Audit log')
        const chain = page.getByTestId('audit-chain')
        await chain.getByRole('heading', { name: 'Chain verified' }).waitFor()
        assert.match(await chain.innerText(), /All \d+ entries/)
        await page.getByRole('cell', { name: 'token.create' }).first().waitFor()
        await page.getByLabel('Action').fill('token.*')
        await page.getByRole('button', { name: 'Search' }).click()
        // Several rows match until the filtered page replaces them; wait for the last to go.
        await page.getByRole('cell', { name: 'user.login' }).first().waitFor({ state: 'detached' })
        assert.equal(await page.getByRole('cell', { name: 'token.revoke' }).count(), 1)
        assert.equal(await page.getByRole('cell', { name: 'token.create' }).count(), 1)
        await page.getByLabel('Action').fill('')
        await page.getByLabel('Text', { exact: true }).fill('OPERATOR@example')
        await page.getByRole('button', { name: 'Search' }).click()
        await page.getByRole('cell', { name: 'token.create' }).waitFor({ state: 'detached' })
        await page.getByRole('cell', { name: 'user.create' }).waitFor()
        await page.getByLabel('Text', { exact: true }).fill('')
        await page.getByRole('button', { name: 'Search' }).click()
        await page.getByRole('cell', { name: 'user.create' }).waitFor()
        await screenshot(page, 'audit')
        assert.deepEqual(problems.problems, [])
      } finally {
        await context.close()
      }
    })

    it('shows a viewer no write action on the alarms, rules and users pages', async () => {
      const created = await api('POST', '/api/v1/tokens', admin, { name: 'wall', role: 'viewer' })
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
        const main = page.getByRole('navigation', { name: 'Main' })
        assert.equal(await main.getByRole('link', { name: 'Users & tokens' }).count(), 0)
        assert.equal(await main.getByRole('link', { name: 'Audit log' }).count(), 0)

        await nav(page, 'Alarms')
        const row = page.locator('tr').filter({ has: page.getByRole('link', { name: 'overheat' }) })
        await row.waitFor()
        assert.equal(await page.getByRole('button', { name: /^(Acknowledge|Clear)/ }).count(), 0)
        await screenshot(page, 'alarms-as-viewer')
        await row.getByRole('link', { name: 'overheat' }).click()
        await page.getByTestId('alarm-comments').getByText('Valve checked').waitFor()
        for (const name of ['Add comment', 'Clear', 'Acknowledge'])
          assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name}`)

        await nav(page, 'Rules')
        await page.getByRole('link', { name: 'boiler-hot' }).click()
        await page.getByRole('heading', { name: 'Definition (read only)' }).waitFor()
        for (const name of ['New rule', 'Save rule', 'Disable', 'Delete'])
          assert.equal(
            await page.getByRole('button', { name, exact: true }).count(),
            0,
            `no ${name}`,
          )
        assert.equal(await page.getByLabel(/^Rule JSON/).getAttribute('readonly'), '')
        // Trying a rule only reads: a viewer may.
        await page.getByRole('button', { name: 'Dry run' }).click()
        await page.getByTestId('rule-report').getByText('1 matched').waitFor()
        await screenshot(page, 'rule-as-viewer')

        await page.goto(`${up.http}/access`)
        await page.getByRole('heading', { name: 'Not allowed' }).waitFor()
        const alarmId = (await api('GET', '/api/v1/alarms', admin)).body.items[0].id as string
        const refused = [
          await api('POST', `/api/v1/alarms/${alarmId}/clear`, viewer, {}),
          await api('POST', `/api/v1/alarms/${alarmId}/comments`, viewer, { text: 'x' }),
          await api('POST', '/api/v1/rules/boiler-hot/disable', viewer),
          await api('GET', '/api/v1/users', viewer),
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
  },
)
