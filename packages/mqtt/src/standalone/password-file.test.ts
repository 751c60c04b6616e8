import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { hash } from '@node-rs/argon2'
import { ConfigError } from './config-error.js'
import { deleteUser, loadPasswordFile, setPassword, type PasswordDb } from './password-file.js'

const run = promisify(execFile)
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const mosquittoPasswd = '/usr/bin/mosquitto_passwd'

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-passwd-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function fileWith(t: TestContext, text: string): Promise<string> {
  const path = join(await tempDir(t), 'passwd')
  await writeFile(path, text)
  return path
}

async function loadFails(path: string, message: RegExp): Promise<ConfigError> {
  let caught: unknown
  await loadPasswordFile(path).catch((err: unknown) => (caught = err))
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`)
  assert.equal(caught.code, 'MQTT_PASSWORD_FILE_INVALID')
  assert.match(caught.message, message)
  return caught
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64')

describe('password file', () => {
  it('writes argon2id (m=19456, t=2, p=1) in PHC form and verifies it', async (t) => {
    const path = join(await tempDir(t), 'passwd')
    await setPassword(path, 'alice', 'correct horse')
    const text = await readFile(path, 'utf8')
    assert.match(
      text,
      /^alice:\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\n$/,
    )
    const db = await loadPasswordFile(path)
    assert.equal(db.size, 1)
    assert.equal(await db.verify('alice', bytes('correct horse')), true)
    assert.equal(await db.verify('alice', bytes('correct horse ')), false)
    assert.equal(await db.verify('Alice', bytes('correct horse')), false)
  })

  it('round-trips UTF-8 passwords, and refuses to store or match other bytes', async (t) => {
    const path = join(await tempDir(t), 'passwd')
    await setPassword(path, 'ünï', 'pässwörd ✓')
    const db = await loadPasswordFile(path)
    assert.equal(await db.verify('ünï', bytes('pässwörd ✓')), true)
    const binary = Uint8Array.from([0, 255, 128, 10, 58])
    await assert.rejects(
      setPassword(path, 'bin', binary),
      /must be 1 to 65,535 bytes of UTF-8 text/,
    )
    assert.equal(await db.verify('ünï', binary), false)
  })

  it('verifies the $7$ and $6$ hashes of mosquitto_passwd 2.0.11 (golden file)', async () => {
    const fixture = fileURLToPath(
      new URL('../../test/standalone/fixtures/mosquitto-2.0.11.passwd', import.meta.url),
    )
    const db = await loadPasswordFile(fixture)
    assert.equal(await db.verify('alice', bytes('correct horse')), true)
    assert.equal(await db.verify('alice', bytes('battery staple')), false)
    assert.equal(await db.verify('bob', bytes('battery staple')), true)
    assert.equal(await db.verify('bob', bytes('correct horse')), false)
  })

  it('verifies hashes made now by the installed mosquitto_passwd (Debian package mosquitto)', async (t) => {
    assert.ok(
      existsSync(mosquittoPasswd),
      `${mosquittoPasswd} is missing: install the Debian package "mosquitto"`,
    )
    const path = join(await tempDir(t), 'passwd')
    await run(mosquittoPasswd, ['-b', '-c', path, 'pbkdf2-user', 'p@ss word'])
    await run(mosquittoPasswd, ['-H', 'sha512', '-b', path, 'sha512-user', 'hunter2'])
    assert.match(await readFile(path, 'utf8'), /^pbkdf2-user:\$7\$101\$.*\nsha512-user:\$6\$/)
    const db = await loadPasswordFile(path)
    assert.equal(await db.verify('pbkdf2-user', bytes('p@ss word')), true)
    assert.equal(await db.verify('pbkdf2-user', bytes('p@ss wort')), false)
    assert.equal(await db.verify('sha512-user', bytes('hunter2')), true)
    assert.equal(await db.verify('sha512-user', bytes('hunter3')), false)
    // setPassword keeps the other lines, so a Mosquitto file migrates user by user.
    await setPassword(path, 'sha512-user', 'new one')
    const migrated = await loadPasswordFile(path)
    assert.equal(await migrated.verify('pbkdf2-user', bytes('p@ss word')), true)
    assert.equal(await migrated.verify('sha512-user', bytes('new one')), true)
  })

  it('verifies the formats Mosquitto 2.1 writes: 64-byte $7$ salts, argon2id m=47104 t=1', async (t) => {
    const salt = randomBytes(64)
    const pbkdf2 = pbkdf2Sync('two one', salt, 1000, 64, 'sha512')
    const argon = await hash('argon two', {
      memoryCost: 47_104,
      timeCost: 1,
      parallelism: 1,
      outputLen: 64,
    })
    const sha = createHash('sha512').update('six').update(salt).digest()
    const db = await loadPasswordFile(
      await fileWith(
        t,
        `a:$7$1000$${b64(salt)}$${b64(pbkdf2)}\nb:${argon}\nc:$6$${b64(salt)}$${b64(sha)}\n`,
      ),
    )
    assert.equal(await db.verify('a', bytes('two one')), true)
    assert.equal(await db.verify('b', bytes('argon two')), true)
    assert.equal(await db.verify('c', bytes('six')), true)
    assert.equal(await db.verify('b', bytes('argon one')), false)
  })

  it('answers false for an unknown user, after as much work as for a known one', async (t) => {
    const path = join(await tempDir(t), 'passwd')
    await setPassword(path, 'alice', 'pw')
    const db = await loadPasswordFile(path)
    assert.equal(await db.verify('mallory', bytes('pw')), false)
    const known = await medianMs(db, 'alice')
    const unknown = await medianMs(db, 'mallory')
    assert.ok(
      unknown > known * 0.25,
      `unknown user took ${String(unknown)} ms, known ${String(known)} ms`,
    )
  })

  it('refuses a plaintext line, naming file and line but not the password', async (t) => {
    const path = await fileWith(t, '# users\nbob:hunter2\n')
    const err = await loadFails(path, /passwd:2: user "bob" has a plaintext password/)
    assert.ok(!err.message.includes('hunter2'))
    assert.match(err.hint ?? '', /mosquitto_passwd -U/)
  })

  it('refuses malformed lines', async (t) => {
    await loadFails(await fileWith(t, 'alice\n'), /passwd:1: expected "username:hash"/)
    await loadFails(await fileWith(t, ':$6$x$y\n'), /passwd:1: expected "username:hash"/)
    await loadFails(
      await fileWith(t, 'a:$5$rounds=5000$salt$hash\n'),
      /:1: user "a" has a hash of unsupported type "\$5\$"/,
    )
    await loadFails(
      await fileWith(t, 'a:$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA\n'),
      /unsupported type "\$argon2i\$"/,
    )
    await loadFails(
      await fileWith(t, 'a:$argon2id$v=19$garbage\n'),
      /:1: user "a" has a malformed \$argon2id\$ hash/,
    )
    await loadFails(
      await fileWith(t, `a:$7$101$${b64(randomBytes(12))}$${b64(randomBytes(32))}\n`),
      /hash of 32 bytes \(64 expected\)/,
    )
    await loadFails(
      await fileWith(t, `a:$6$${b64(randomBytes(8))}$${b64(randomBytes(64))}\n`),
      /salt of 8 bytes/,
    )
    await loadFails(
      await fileWith(t, `a:$7$0$${b64(randomBytes(12))}$${b64(randomBytes(64))}\n`),
      /0 iterations/,
    )
    await loadFails(await fileWith(t, 'a:$7$101$!!$??\n'), /:1: user "a" has a malformed hash/)
  })

  it('refuses argon2id parameters too costly to verify at every login', async (t) => {
    const slow =
      '$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
    await loadFails(await fileWith(t, `a:${slow}\n`), /too costly to verify \(m=4194304,t=3,p=1\)/)
  })

  it('refuses a user listed twice', async (t) => {
    const path = join(await tempDir(t), 'passwd')
    await setPassword(path, 'alice', 'one')
    const line = (await readFile(path, 'utf8')).trim()
    await writeFile(path, `${line}\n\n${line}\n`)
    await loadFails(path, /passwd:3: user "alice" is listed twice \(first at line 1\)/)
  })

  it('rewrites atomically with mode 0600, keeping comments and other users', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'passwd')
    await writeFile(path, '# managed by strata\n\n', { mode: 0o644 })
    await setPassword(path, 'alice', 'one')
    await setPassword(path, 'bob', 'two')
    const before = (await readFile(path, 'utf8')).split('\n')
    await setPassword(path, 'alice', 'three')
    const after = (await readFile(path, 'utf8')).split('\n')
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.deepEqual(await readdir(dir), ['passwd'])
    assert.deepEqual([after[0], after[1], after[3]], [before[0], before[1], before[3]])
    assert.notEqual(after[2], before[2])
    const db = await loadPasswordFile(path)
    assert.equal(await db.verify('alice', bytes('three')), true)
    assert.equal(await db.verify('alice', bytes('one')), false)
    assert.equal(await db.verify('bob', bytes('two')), true)
  })

  it('deletes users atomically and says when there was none', async (t) => {
    const dir = await tempDir(t)
    const path = join(dir, 'passwd')
    await setPassword(path, 'alice', 'one')
    await setPassword(path, 'bob', 'two')
    assert.equal(await deleteUser(path, 'alice'), true)
    assert.equal(await deleteUser(path, 'alice'), false)
    assert.match(await readFile(path, 'utf8'), /^bob:\$argon2id\$[^\n]+\n$/)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.deepEqual(await readdir(dir), ['passwd'])
  })

  it('refuses user names and passwords a password file cannot hold, leaving the file alone', async (t) => {
    const path = join(await tempDir(t), 'passwd')
    await setPassword(path, 'alice', 'one')
    const before = await readFile(path, 'utf8')
    for (const [user, password] of [
      ['a:b', 'pw'],
      ['', 'pw'],
      ['#admin', 'pw'],
      ['two\nlines', 'pw'],
      ['carol', ''],
    ] as const) {
      await assert.rejects(setPassword(path, user, password), (err: unknown) => {
        return err instanceof ConfigError && err.code === 'MQTT_CREDENTIAL_INVALID'
      })
    }
    assert.equal(await readFile(path, 'utf8'), before)
  })

  it('does not rewrite a file it cannot parse', async (t) => {
    const path = await fileWith(t, 'bob:plaintext\n')
    await assert.rejects(
      setPassword(path, 'alice', 'pw'),
      /passwd:1: user "bob" has a plaintext password/,
    )
    assert.equal(await readFile(path, 'utf8'), 'bob:plaintext\n')
  })

  it('reports a missing password file', async () => {
    await assert.rejects(loadPasswordFile('/nonexistent/passwd'), (err: unknown) => {
      return err instanceof ConfigError && err.code === 'MQTT_FILE_UNREADABLE'
    })
  })
})

async function medianMs(db: PasswordDb, user: string): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    const start = performance.now()
    await db.verify(user, bytes('wrong'))
    times.push(performance.now() - start)
  }
  return times.sort((a, b) => a - b)[1] ?? 0
}
