import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { startNode, type StrataNode } from '@strata/cloud'
import { runCli } from '../src/index.js'

// The verbs that drive a running node, in-process against a real node on ports 0.
const run = promisify(execFile)
const root = mkdtempSync(join(tmpdir(), 'strata-node-cli-'))
const configDir = join(root, 'config')
const dataDir = join(root, 'node')
const password = 'correct horse battery staple'
let node: StrataNode
let url: string

before(async () => {
  process.env['STRATA_CONFIG_DIR'] = configDir
  delete process.env['STRATA_URL']
  delete process.env['STRATA_TOKEN']
  node = await startNode({ dataDir, host: '127.0.0.1', mqttPort: 0, mqttsPort: 0, httpPort: 0 })
  url = node.httpUrl
})
after(async () => {
  await node.close()
  rmSync(root, { recursive: true, force: true })
})

function capture(): { stream: Writable; text: () => string } {
  let text = ''
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString()
      done()
    },
  })
  return { stream, text: () => text }
}

async function strata(args: string[], input?: string) {
  const stdout = capture()
  const stderr = capture()
  const stdin = Readable.from(input === undefined ? [] : [input])
  const code = await runCli(args, { stdout: stdout.stream, stderr: stderr.stream }, stdin)
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

async function json<T = any>(args: string[], input?: string): Promise<T> {
  const r = await strata([...args, '--json'], input)
  assert.equal(r.code, 0, r.stderr + r.stdout)
  return JSON.parse(r.stdout) as T
}

/** A port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Runs with STRATA_TOKEN set to `token` (the saved session still gives the URL). */
async function as<T>(token: string, f: () => Promise<T>): Promise<T> {
  process.env['STRATA_TOKEN'] = token
  try {
    return await f()
  } finally {
    delete process.env['STRATA_TOKEN']
  }
}

describe('strata verbs against a running node', () => {
  it('says to log in when there is no session', async () => {
    const r = await strata(['devices', 'list'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^error CLI_NOT_LOGGED_IN: /)
    assert.match(r.stderr, /hint: Run `strata login/)
  })

  it('sets up the first admin from the token file and saves the session, owner-only', async () => {
    const setup = await json(
      [
        'admin',
        'setup',
        '--url',
        url,
        '--email',
        'admin@example.com',
        '--password-stdin',
        '--token-file',
        join(dataDir, 'setup-token'),
      ],
      `${password}\n`,
    )
    assert.equal(setup.ok, true)
    assert.equal(setup.user.email, 'admin@example.com')
    const path = join(configDir, 'credentials.json')
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.equal(statSync(configDir).mode & 0o777, 0o700)
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    assert.deepEqual(Object.keys(saved).sort(), ['email', 'expiresAt', 'token', 'url'])
    assert.equal(saved.url, url)
    // The token file is void once used.
    const again = await strata(
      [
        'admin',
        'setup',
        '--url',
        url,
        '--email',
        'x@example.com',
        '--password-stdin',
        '--setup-token',
        'sst_x',
      ],
      'another long password\n',
    )
    assert.equal(again.code, 1)
    assert.match(again.stderr, /error CLOUD_SETUP_DONE/)
  })

  it('reports a failed login with the node’s code and keeps the session', async () => {
    const before = readFileSync(join(configDir, 'credentials.json'), 'utf8')
    const r = await strata(
      ['login', '--url', url, '--email', 'admin@example.com', '--password-stdin'],
      'wrong password\n',
    )
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^error CLOUD_UNAUTHENTICATED: wrong email or password\n/)
    assert.equal(readFileSync(join(configDir, 'credentials.json'), 'utf8'), before)
    const ok = await strata(
      ['login', '--url', `${url}/`, '--email', 'admin@example.com', '--password-stdin'],
      `${password}\n`,
    )
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^logged in to http:\/\/127\.0\.0\.1:\d+ as admin@example\.com\n/)
  })

  it('creates a device with a token that publishes with mosquitto_pub, shows it, revokes it', async () => {
    const human = await strata(['devices', 'create', 'pump-6', '--token'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /^created device pump-6 \(state provisioned\)\n/)
    const line =
      /\n {2}(mosquitto_pub -h 127\.0\.0\.1 -p \d+ .* -i 'pump-6' -u 'pump-6' -P 'sdt_.*)\n/.exec(
        human.stdout,
      )?.[1]
    assert.ok(line !== undefined, human.stdout)
    // The printed line is a working command: it reaches the node's MQTT port and is accepted.
    // (The node runs in this process: run the command without blocking it.)
    const printed = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('sh', ['-c', line], { timeout: 10_000 }, (err, _stdout, stderr) =>
        resolve({ code: err === null ? 0 : 1, stderr }),
      )
    })
    assert.equal(printed.code, 0, printed.stderr)

    const created = await json([
      'devices',
      'create',
      'pump-7',
      '--name',
      'Pump 7',
      '--label',
      'site=berlin',
      '--token',
    ])
    assert.equal(created.device.id, 'pump-7')
    assert.deepEqual(created.device.labels, { site: 'berlin' })
    assert.equal(typeof created.token, 'string')
    await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      new URL(node.mqttUrl).port,
      '-V',
      'mqttv5',
      '-q',
      '1',
      '-i',
      'pump-7',
      '-u',
      'pump-7',
      '-P',
      created.token,
      '-t',
      'strata/v1/devices/pump-7/telemetry',
      '-m',
      JSON.stringify({ values: { temp: 21.5 } }),
    ])

    const shown = await json(['devices', 'show', 'pump-7'])
    assert.equal(shown.state, 'active')
    assert.equal(shown.refused.count, 0)
    assert.notEqual(shown.presence.lastSeenAt, null)
    const prose = await strata(['devices', 'show', 'pump-7'])
    assert.match(prose.stdout, /^pump-7\n {2}name +Pump 7\n/)
    assert.match(prose.stdout, /\n {2}state +active\b/)
    assert.match(prose.stdout, /\n {2}refused +0 messages\n/)

    const list = await strata(['devices', 'list', '--labels', 'site=berlin'])
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /pump-7 .*Pump 7 .*active/)
    assert.doesNotMatch(list.stdout, /pump-6/)
    assert.ok(!list.stdout.includes('\u001b['), 'no colours when not a terminal')
    const all = await json<{ items: { id: string }[]; nextCursor: string | null }>([
      'devices',
      'list',
      '--all',
      '--limit',
      '1',
    ])
    assert.deepEqual(
      all.items.map((d) => d.id),
      ['pump-6', 'pump-7'],
    )
    assert.equal(all.nextCursor, null)
    const newestFirst = await json<{ items: { id: string }[] }>([
      'devices',
      'list',
      '--all',
      '--limit',
      '1',
      '--sort',
      '-id',
    ])
    assert.deepEqual(
      newestFirst.items.map((d) => d.id),
      ['pump-7', 'pump-6'],
      'sorted on the node, across pages',
    )

    const tokens = await json(['devices', 'tokens', 'pump-7'])
    assert.equal(tokens.items.length, 1)

    const unconfirmed = await strata(['devices', 'revoke', 'pump-7'])
    assert.equal(unconfirmed.code, 2)
    assert.match(
      unconfirmed.stderr,
      /error CLI_USAGE: revoke device pump-7 for good needs confirmation/,
    )
    assert.match(unconfirmed.stderr, /hint: Add --yes/)
    const revoked = await json(['devices', 'revoke', 'pump-7', '--yes', '--reason', 'stolen'])
    assert.equal(revoked.state, 'revoked')

    const audit = await json<{ items: { target: string }[] }>([
      'admin',
      'audit',
      '--action',
      'device.revoke',
    ])
    assert.equal(audit.items.length, 1)
    assert.equal(audit.items[0]?.target, 'device:pump-7')
    const found = await json<{ items: { action: string }[] }>([
      'admin',
      'audit',
      '--action',
      'device.*',
      '--search',
      'STOLEN',
      '--since',
      '-1h',
      '--until',
      'now',
    ])
    assert.deepEqual(
      found.items.map((e) => e.action),
      ['device.revoke'],
    )
    const verify = await strata(['admin', 'audit', 'verify'])
    assert.equal(verify.code, 0, verify.stderr)
    assert.match(verify.stdout, /^audit chain ok: \d+ entries\n/)
    assert.equal((await json(['admin', 'audit', 'verify'])).ok, true)
  })

  it('issues a certificate from a CSR and lists it', async () => {
    await json(['devices', 'create', 'cam-1'])
    const config = join(root, 'openssl.cnf')
    writeFileSync(config, '[req]\ndistinguished_name=dn\n[dn]\n')
    const csr = execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-config',
        config,
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(root, 'cam.key'),
        '-subj',
        '/CN=cam-1',
      ],
      { encoding: 'utf8' },
    )
    writeFileSync(join(root, 'cam.csr'), csr)
    const out = join(root, 'cam.crt')
    const chain = join(root, 'ca-chain.pem')
    const r = await strata([
      'devices',
      'cert',
      'cam-1',
      '--csr',
      join(root, 'cam.csr'),
      '--out',
      out,
      '--chain-out',
      chain,
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^issued certificate [0-9a-f]+ for cam-1\n/)
    assert.match(readFileSync(out, 'utf8'), /^-----BEGIN CERTIFICATE-----/)
    assert.match(readFileSync(chain, 'utf8'), /^-----BEGIN CERTIFICATE-----/)
    const certs = await json(['devices', 'certs', 'cam-1'])
    assert.equal(certs.items.length, 1)
  })

  it('a viewer token may not create devices', async () => {
    const created = await json<{ token: string; apiToken: { id: string; role: string } }>([
      'admin',
      'tokens',
      'create',
      '--name',
      'dashboards',
      '--role',
      'viewer',
    ])
    assert.equal(created.apiToken.role, 'viewer')
    const r = await as(created.token, () => strata(['devices', 'create', 'x-1']))
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /^error CLOUD_FORBIDDEN: /)
    // The saved admin session still works.
    await json(['devices', 'create', 'x-1'])
    const listed = await strata(['devices', 'list', '--token', created.token, '--json'])
    assert.equal(listed.code, 0, listed.stderr)
    const denied = await strata(['devices', 'disable', 'x-1', '--token', created.token, '--json'])
    assert.equal(denied.code, 1)
    assert.equal(JSON.parse(denied.stdout).error.code, 'CLOUD_FORBIDDEN')
    const revoked = await json(['admin', 'tokens', 'revoke', created.apiToken.id])
    assert.notEqual(revoked.revokedAt, null)
    assert.equal((await json(['admin', 'tokens', 'list'])).items.length, 1)
  })

  it('manages claims, tenants and users', async () => {
    const claim = await json<{ token: string; claim: { id: string; maxUses: number } }>([
      'claims',
      'create',
      '--name',
      'batch-1',
      '--max-uses',
      '5',
      '--label',
      'batch=1',
    ])
    assert.match(claim.token, /^scl_/)
    assert.equal(claim.claim.maxUses, 5)
    assert.equal((await json(['claims', 'list'])).items.length, 1)
    assert.notEqual((await json(['claims', 'revoke', claim.claim.id])).revokedAt, null)

    const tenants = await json(['admin', 'tenants', 'list'])
    assert.equal(tenants.items.length, 1)
    const user = await json<{ id: string; role: string }>(
      [
        'admin',
        'users',
        'create',
        '--email',
        'ops@example.com',
        '--role',
        'operator',
        '--password-stdin',
      ],
      'ops password 123\n',
    )
    assert.equal(user.role, 'operator')
    const disabled = await json(['admin', 'users', 'disable', user.id])
    assert.notEqual(disabled.disabledAt, null)
    assert.equal((await json(['admin', 'users', 'list'])).items.length, 2)
  })

  it('says when the node is not running', async () => {
    const port = await closedPort()
    const r = await strata([
      'devices',
      'list',
      '--url',
      `http://127.0.0.1:${String(port)}`,
      '--token',
      'x',
    ])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /^error CLI_NODE_UNREACHABLE: cannot reach the node at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n/,
    )
    assert.match(r.stderr, /hint: Is the node running at http:\/\/127\.0\.0\.1:\d+\?/)
  })

  it('logs out: the session ends on the node and the file is gone', async () => {
    const saved = JSON.parse(readFileSync(join(configDir, 'credentials.json'), 'utf8')) as {
      token: string
    }
    const r = await json(['logout'])
    assert.equal(r.loggedOut, true)
    assert.equal(r.endedOnNode, true)
    assert.equal(existsSync(join(configDir, 'credentials.json')), false)
    const stale = await strata(['devices', 'list', '--url', url, '--token', saved.token])
    assert.equal(stale.code, 1)
    assert.match(stale.stderr, /error CLOUD_UNAUTHENTICATED/)
    const none = await strata(['devices', 'list'])
    assert.match(none.stderr, /error CLI_NOT_LOGGED_IN/)
  })
})

describe('strata verbs against a fake node', () => {
  /** An HTTP server that answers every request with `status` and `body`. */
  async function fakeNode(status: number, body: string, type = 'application/json') {
    const server = createHttpServer((_req, res) => {
      res.writeHead(status, { 'content-type': type }).end(body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    return {
      url: `http://127.0.0.1:${String(port)}`,
      close: () => new Promise((resolve) => server.close(resolve)),
    }
  }

  it('exits 1 and names the broken entry when the audit chain fails', async (t) => {
    const fake = await fakeNode(
      200,
      JSON.stringify({ ok: false, entries: 12, brokenAt: 7, problem: 'hash does not match' }),
    )
    t.after(fake.close)
    const r = await strata(['admin', 'audit', 'verify', '--url', fake.url, '--token', 't'])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^audit chain BROKEN at entry 7: hash does not match\n/)
    const j = await strata([
      'admin',
      'audit',
      'verify',
      '--url',
      fake.url,
      '--token',
      't',
      '--json',
    ])
    assert.equal(j.code, 1)
    assert.deepEqual(JSON.parse(j.stdout), {
      ok: false,
      entries: 12,
      brokenAt: 7,
      problem: 'hash does not match',
    })
  })

  it('says when the URL is not a Strata node', async (t) => {
    const fake = await fakeNode(502, '<html>Bad Gateway</html>', 'text/html')
    t.after(fake.close)
    const r = await strata(['devices', 'list', '--url', fake.url, '--token', 't'])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /^error CLI_NODE_REPLY_INVALID: GET \/api\/v1\/devices\?limit=100 failed with HTTP 502/,
    )
  })
})
