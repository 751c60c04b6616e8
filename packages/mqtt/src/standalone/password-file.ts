import { isUtf8 } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { ConfigError } from './config-error.js'
import {
  decodeStoredHash,
  hashPassword,
  verifyStoredHash,
  type StoredHash,
} from './password-hash.js'

/** Password files larger than this are refused. */
const maxPasswordFileBytes = 16 * 1024 * 1024
/** MQTT user names and passwords are at most 65,535 bytes (MQTT 5 §1.5.4, §1.5.6). */
const maxCredentialBytes = 65_535

/**
 * The users of a password file, checked in roughly constant time.
 *
 * @example
 * const ok = await passwords.verify(context.username, context.password)
 */
export interface PasswordDb {
  /**
   * True when the user exists and the password matches. An unknown user costs the same argon2id
   * verification as a known one, so timing does not tell which user names exist.
   */
  verify(username: string, password: Uint8Array): Promise<boolean>
  /** How many users the file holds. */
  readonly size: number
}

interface ParsedPasswordFile {
  /** The file's lines, comments and blank lines included, for rewriting it. */
  readonly lines: string[]
  readonly users: Map<string, { readonly hash: StoredHash; readonly index: number }>
}

/**
 * Reads a Mosquitto password file: `username:HASH` lines (mosquitto_passwd(1)), `#` comments and
 * blank lines. Hashes may be argon2id (PHC), `$7$` or `$6$`; a plaintext line is an error.
 *
 * @throws ConfigError `MQTT_PASSWORD_FILE_INVALID` naming file and line, `MQTT_FILE_UNREADABLE`.
 * @example
 * const passwords = await loadPasswordFile('/etc/strata/passwd')
 * await passwords.verify('alice', new TextEncoder().encode('s3cret')) // true or false
 */
export async function loadPasswordFile(path: string): Promise<PasswordDb> {
  const abs = resolve(path)
  const parsed = parsePasswordFile(await readPasswordFile(abs, false), abs)
  const users = new Map([...parsed.users].map(([name, u]) => [name, u.hash]))
  // Verified against when the user is unknown; a random password no one can know.
  const dummy = decodeStoredHash(await hashPassword(randomBytes(32)))
  if ('error' in dummy) throw new Error(`argon2id produced an undecodable hash: ${dummy.error}`)
  return {
    size: users.size,
    async verify(username, password) {
      const stored = users.get(username)
      if (stored === undefined) {
        await verifyStoredHash(dummy, password)
        return false
      }
      if (stored.kind === 'argon2id') return verifyStoredHash(stored, password)
      // Legacy hashes take microseconds: add the argon2id cost so they do not stand out.
      const [ok] = await Promise.all([
        verifyStoredHash(stored, password),
        verifyStoredHash(dummy, password),
      ])
      return ok
    },
  }
}

/**
 * Adds a user or replaces its password with a new argon2id hash, keeping every other line. The
 * file is rewritten atomically (a temporary file with mode 0600, fsync, rename), so a crash
 * leaves the old file or the new one. Concurrent writers are not serialised: the last one wins.
 *
 * @throws ConfigError `MQTT_CREDENTIAL_INVALID` for an unusable user name or password, and the
 *   errors of {@link loadPasswordFile} when the existing file is invalid (it is then left alone).
 * @example
 * await setPassword('/etc/strata/passwd', 'alice', 's3cret')
 */
export async function setPassword(
  path: string,
  username: string,
  password: string | Uint8Array,
): Promise<void> {
  const abs = resolve(path)
  checkUsername(username)
  const bytes = typeof password === 'string' ? Buffer.from(password, 'utf8') : password
  // @node-rs/argon2 takes UTF-8 only ("invalid utf-8 sequence"); MQTT clients send text passwords.
  if (bytes.length === 0 || bytes.length > maxCredentialBytes || !isUtf8(bytes)) {
    throw new ConfigError(
      'MQTT_CREDENTIAL_INVALID',
      'the password must be 1 to 65,535 bytes of UTF-8 text',
      { hint: 'Choose a non-empty text password; a long random one is best.' },
    )
  }
  const parsed = parsePasswordFile(await readPasswordFile(abs, true), abs)
  const line = `${username}:${await hashPassword(bytes)}`
  const index = parsed.users.get(username)?.index
  const lines = [...parsed.lines]
  if (index === undefined) lines.push(line)
  else lines[index] = line
  await writeAtomically(abs, lines)
}

/**
 * Removes a user from the password file, rewriting it atomically as {@link setPassword} does.
 * Returns false (and leaves the file alone) when the user is not in it.
 *
 * @example
 * if (!(await deleteUser('/etc/strata/passwd', 'bob'))) console.error('no such user')
 */
export async function deleteUser(path: string, username: string): Promise<boolean> {
  const abs = resolve(path)
  const parsed = parsePasswordFile(await readPasswordFile(abs, false), abs)
  const index = parsed.users.get(username)?.index
  if (index === undefined) return false
  await writeAtomically(
    abs,
    parsed.lines.filter((_, i) => i !== index),
  )
  return true
}

function parsePasswordFile(text: string, file: string): ParsedPasswordFile {
  const lines = text.split(/\r?\n/)
  if (lines.at(-1) === '') lines.pop()
  const users = new Map<string, { hash: StoredHash; index: number }>()
  for (const [index, raw] of lines.entries()) {
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue
    const at = `${file}:${String(index + 1)}`
    const colon = raw.indexOf(':')
    if (colon <= 0) {
      throw invalid(
        `${at}: expected "username:hash"`,
        'Create entries with setPassword (or mosquitto_passwd); users without a hash are not accepted.',
      )
    }
    const username = raw.slice(0, colon)
    const first = users.get(username)
    if (first !== undefined) {
      throw invalid(
        `${at}: user "${username}" is listed twice (first at line ${String(first.index + 1)})`,
      )
    }
    const hash = decodeStoredHash(raw.slice(colon + 1).trimEnd())
    if ('error' in hash) {
      throw invalid(
        `${at}: user "${username}" ${hash.error}`,
        'Set the password again with setPassword (or hash the file with `mosquitto_passwd -U FILE`).',
      )
    }
    users.set(username, { hash, index })
  }
  return { lines, users }
}

function checkUsername(username: string): void {
  // mosquitto_passwd(1): "Usernames must not contain ':'". Line breaks would split the line, a
  // leading '#' would turn it into a comment, and MQTT strings hold no U+0000.
  if (
    username === '' ||
    /[:\r\n]/.test(username) ||
    username.includes('\u0000') ||
    username.trimStart().startsWith('#') ||
    username.trim() === '' ||
    Buffer.byteLength(username, 'utf8') > maxCredentialBytes
  ) {
    throw new ConfigError(
      'MQTT_CREDENTIAL_INVALID',
      `user name ${JSON.stringify(username.slice(0, 64))} cannot be stored in a password file`,
      { hint: 'Use 1 to 65,535 bytes without ":", line breaks or a leading "#".' },
    )
  }
}

async function readPasswordFile(path: string, missingIsEmpty: boolean): Promise<string> {
  try {
    if ((await stat(path)).size > maxPasswordFileBytes) throw new Error('the file is over 16 MiB')
    return await readFile(path, 'utf8')
  } catch (err) {
    if (missingIsEmpty && (err as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw unreadable(`cannot read password file ${path}`, err)
  }
}

/** Writes `lines` to a temporary file beside `path` (mode 0600), fsyncs, renames over `path`. */
async function writeAtomically(path: string, lines: readonly string[]): Promise<void> {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(lines.length === 0 ? '' : `${lines.join('\n')}\n`)
      // The mode given to open() is filtered by the umask; set it outright.
      await fh.chmod(0o600)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
    // Persist the rename itself: fsync the directory entry.
    const dh = await open(dir, 'r')
    try {
      await dh.sync()
    } finally {
      await dh.close()
    }
  } catch (err) {
    await rm(tmp, { force: true })
    throw unreadable(`cannot write password file ${path}`, err)
  }
}

function invalid(message: string, hint?: string): ConfigError {
  return new ConfigError('MQTT_PASSWORD_FILE_INVALID', message, hint === undefined ? {} : { hint })
}

function unreadable(message: string, err: unknown): ConfigError {
  return new ConfigError(
    'MQTT_FILE_UNREADABLE',
    `${message}: ${err instanceof Error ? err.message : String(err)}`,
    { hint: 'Check the path and that the broker user may read and write it.', cause: err },
  )
}
