import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PeerCertificate } from 'node:tls'
import { after, before, describe, it } from 'node:test'
import type { ClientInfo, ConnectContext } from '../hooks/broker-hooks.js'
import { parseAclFile } from './acl-file.js'
import { parseBrokerConfig } from './broker-config.js'
import { ConfigError } from './config-error.js'
import { loadPasswordFile, setPassword, type PasswordDb } from './password-file.js'
import { createStandaloneHooks, loadStandaloneDeps } from './standalone-hooks.js'

const tlsListener = [
  'listener 8883',
  'certfile server.crt',
  'keyfile server.key',
  'cafile ca.crt',
  'require_certificate true',
  'use_identity_as_username true',
].join('\n')

const config = (extra = ''): ReturnType<typeof parseBrokerConfig> =>
  parseBrokerConfig(`listener 1883\n${tlsListener}\n${extra}`, '/etc/strata/broker.conf')

const connect = (fields: Partial<ConnectContext> = {}): ConnectContext => ({
  clientId: 'c1',
  protocolVersion: 5,
  remoteAddress: '127.0.0.1',
  listener: 'mqtt://127.0.0.1:1883',
  ...fields,
})

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const certificate = (subject: Record<string, unknown>): PeerCertificate =>
  ({ subject }) as unknown as PeerCertificate

let passwords: PasswordDb
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-hooks-'))
  await setPassword(join(dir, 'passwd'), 'alice', 'correct horse')
  passwords = await loadPasswordFile(join(dir, 'passwd'))
})
after(() => rm(dir, { recursive: true, force: true }))

describe('createStandaloneHooks: authenticate', () => {
  it('refuses anonymous clients by default with 0x87', async () => {
    const hooks = createStandaloneHooks(config(), {})
    assert.deepEqual(await hooks.authenticate(connect()), {
      ok: false,
      reasonCode: 0x87,
      reason: 'anonymous access is not allowed',
    })
  })

  it('admits anonymous clients when allow_anonymous is true, as anonymous:CLIENTID', async () => {
    const hooks = createStandaloneHooks(config('allow_anonymous true'), {})
    const result = await hooks.authenticate(connect())
    assert.ok(result.ok)
    assert.equal(result.identity.id, 'anonymous:c1')
    assert.equal(result.identity.username, undefined)
  })

  it('admits a user whose password matches the password file', async () => {
    const hooks = createStandaloneHooks(config('password_file passwd'), { passwords })
    const result = await hooks.authenticate(
      connect({ username: 'alice', password: utf8('correct horse') }),
    )
    assert.ok(result.ok)
    assert.deepEqual(result.identity, {
      id: 'alice',
      username: 'alice',
      attributes: { listener: 'mqtt://127.0.0.1:1883', method: 'password' },
    })
  })

  it('refuses a bad password, an unknown user or a missing password with 0x86', async () => {
    const hooks = createStandaloneHooks(config('password_file passwd\nallow_anonymous true'), {
      passwords,
    })
    for (const context of [
      connect({ username: 'alice', password: utf8('wrong') }),
      connect({ username: 'mallory', password: utf8('correct horse') }),
      connect({ username: 'alice' }),
    ]) {
      assert.deepEqual(await hooks.authenticate(context), {
        ok: false,
        reasonCode: 0x86,
        reason: 'bad user name or password',
      })
    }
  })

  it('refuses a user name it cannot check, even with anonymous access on', async () => {
    const hooks = createStandaloneHooks(config('allow_anonymous true'), {})
    const result = await hooks.authenticate(connect({ username: 'root', password: utf8('x') }))
    assert.equal(!result.ok && result.reasonCode, 0x86)
  })

  it('takes the user name from a trusted certificate CN on a use_identity_as_username listener', async () => {
    const hooks = createStandaloneHooks(config('password_file passwd'), { passwords })
    const result = await hooks.authenticate(
      connect({
        listener: 'mqtts://0.0.0.0:8883',
        username: 'alice',
        password: utf8('wrong, and not looked at'),
        tls: { authorized: true, peerCertificate: certificate({ CN: 'device-7', O: 'Strata' }) },
      }),
    )
    assert.ok(result.ok)
    assert.deepEqual(result.identity, {
      id: 'device-7',
      username: 'device-7',
      attributes: { listener: 'mqtts://0.0.0.0:8883', method: 'certificate' },
    })
  })

  it('refuses untrusted, missing or ambiguous certificates with 0x87', async () => {
    const hooks = createStandaloneHooks(config(), {})
    for (const tls of [
      undefined,
      { authorized: false, peerCertificate: certificate({ CN: 'device-7' }) },
      { authorized: true, peerCertificate: certificate({ O: 'no CN' }) },
      { authorized: true, peerCertificate: certificate({ CN: ['a', 'b'] }) },
      { authorized: true, peerCertificate: {} as PeerCertificate },
    ]) {
      const result = await hooks.authenticate(
        connect({ listener: 'mqtts://0.0.0.0:8883', ...(tls ? { tls } : {}) }),
      )
      assert.equal(!result.ok && result.reasonCode, 0x87, JSON.stringify(tls))
    }
  })

  it('refuses a connection on a listener the config does not name', async () => {
    const hooks = createStandaloneHooks(config('allow_anonymous true'), {})
    for (const listener of [
      'mqtt://127.0.0.1:1884',
      'mqtts://127.0.0.1:1883',
      'ws://127.0.0.1:1883/mqtt',
      'junk',
    ]) {
      const result = await hooks.authenticate(connect({ listener }))
      assert.deepEqual(
        result,
        { ok: false, reasonCode: 0x87, reason: 'unknown listener' },
        listener,
      )
    }
  })

  it('asks listenerOf for the listener when given, e.g. for port 0', async () => {
    const zero = parseBrokerConfig('allow_anonymous true\nlistener 0', '/etc/strata/broker.conf')
    const opened = new Map([['mqtt://127.0.0.1:40321', zero.listeners[0]!]])
    const hooks = createStandaloneHooks(zero, { listenerOf: (url) => opened.get(url) })
    assert.equal(
      (await hooks.authenticate(connect({ listener: 'mqtt://127.0.0.1:40321' }))).ok,
      true,
    )
    assert.equal((await hooks.authenticate(connect({ listener: 'mqtt://127.0.0.1:0' }))).ok, false)
  })
})

describe('createStandaloneHooks: authorisation', () => {
  const client = (clientId: string, username?: string): ClientInfo => ({
    clientId,
    protocolVersion: 5,
    identity: {
      id: username ?? `anonymous:${clientId}`,
      ...(username === undefined ? {} : { username }),
    },
  })

  it('lets every authenticated client do everything without an acl_file, as Mosquitto', () => {
    const hooks = createStandaloneHooks(config(), {})
    assert.equal('authorizePublish' in hooks, false)
    assert.equal('authorizeSubscribe' in hooks, false)
  })

  it('checks PUBLISH and SUBSCRIBE against the ACL, refusing with 0x87', () => {
    const acl = parseAclFile(
      'topic read public/#\nuser alice\ntopic readwrite alice/#\npattern write devices/%c/#',
      'acl',
    )
    const hooks = createStandaloneHooks(config('acl_file acl'), { acl })
    const alice = client('a1', 'alice')
    const anon = client('pump-1')
    assert.ok(hooks.authorizePublish !== undefined && hooks.authorizeSubscribe !== undefined)
    assert.deepEqual(hooks.authorizePublish(alice, 'alice/notes', 1, false), { allowed: true })
    assert.deepEqual(hooks.authorizePublish(alice, 'public/news', 1, false), {
      allowed: false,
      reasonCode: 0x87,
      reason: 'publish denied by acl_file',
    })
    assert.deepEqual(hooks.authorizePublish(anon, 'devices/pump-1/telemetry', 0, false), {
      allowed: true,
    })
    assert.deepEqual(hooks.authorizeSubscribe(anon, 'public/+', 0), { allowed: true })
    assert.equal(hooks.authorizeSubscribe(alice, 'public/+', 0).allowed, false)
    assert.equal(hooks.authorizeSubscribe(anon, '#', 0).allowed, false)
  })

  it('refuses to start with a configured password or ACL file that was not loaded', () => {
    assert.throws(
      () => createStandaloneHooks(config('acl_file acl'), {}),
      (err: unknown) => {
        return (
          err instanceof ConfigError &&
          /acl_file \/etc\/strata\/acl, but it was not loaded/.test(err.message)
        )
      },
    )
    assert.throws(() => createStandaloneHooks(config('password_file passwd'), {}), /password_file/)
  })

  it('loads the files the config names', async () => {
    await writeFile(join(dir, 'acl'), 'user alice\ntopic read alice/#\n')
    const loaded = parseBrokerConfig(
      'password_file passwd\nacl_file acl\nlistener 1883',
      join(dir, 'broker.conf'),
    )
    const hooks = createStandaloneHooks(loaded, await loadStandaloneDeps(loaded))
    const result = await hooks.authenticate(
      connect({ username: 'alice', password: utf8('correct horse') }),
    )
    assert.ok(result.ok)
    assert.equal(hooks.authorizeSubscribe?.(client('a1', 'alice'), 'alice/#', 0).allowed, true)
  })
})
