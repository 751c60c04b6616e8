import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { hash, parseOptions, verify } from '@node-rs/argon2'

const pbkdf2Async = promisify(pbkdf2)

/**
 * Parameters of new hashes: argon2id with 19 MiB, 2 passes, 1 lane (the OWASP Password Storage
 * Cheat Sheet's first argon2id configuration), written in PHC form. The algorithm is the
 * library's default, argon2id: its `Algorithm` enum is an ambient const enum, which
 * isolatedModules cannot use, so {@link hashPassword} checks the prefix instead.
 */
export const argon2idOptions = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const
const argon2idPrefix = '$argon2id$v=19$m=19456,t=2,p=1$'

/**
 * Ceilings for hashes read from a file, so one line cannot make each login take minutes.
 * Mosquitto 2.1 writes m=47104,t=1,p=1; PBKDF2 counts are 101 (2.0) and 1000 (2.1).
 */
const maxArgon2MemoryKiB = 1024 * 1024
const maxArgon2TimeCost = 64
const maxArgon2Parallelism = 16
const maxPbkdf2Iterations = 10_000_000

/** A decoded password hash, in one of the formats a Mosquitto password file can hold. */
export type StoredHash =
  | { readonly kind: 'argon2id'; readonly encoded: string }
  | {
      readonly kind: 'sha512-pbkdf2'
      readonly iterations: number
      readonly salt: Buffer
      readonly hash: Buffer
    }
  | { readonly kind: 'sha512'; readonly salt: Buffer; readonly hash: Buffer }

const b64 = '([A-Za-z0-9+/]+={0,2})'
const pbkdf2Pattern = new RegExp(`^\\$7\\$(\\d{1,9})\\$${b64}\\$${b64}$`)
const sha512Pattern = new RegExp(`^\\$6\\$${b64}\\$${b64}$`)

/**
 * Decodes the hash part of a password file line, or says why it cannot. Formats, after
 * Mosquitto's `password_common.c` (`pw__decode_sha512_pbkdf2`, `pw__decode_sha512`):
 * - `$argon2id$v=19$m=…,t=…,p=…$SALT$HASH` (PHC; Strata's own and Mosquitto 2.1's);
 * - `$7$ITERATIONS$SALT$HASH`: PBKDF2-HMAC-SHA512, base64 salt of 12 bytes (2.0) or 64 (2.1),
 *   base64 64-byte derived key (`mosquitto_passwd`'s default);
 * - `$6$SALT$HASH`: SHA-512 of the password then the salt (`mosquitto_passwd -H sha512`).
 * Anything else, plaintext above all, is refused. Reasons never quote the value.
 */
export function decodeStoredHash(text: string): StoredHash | { readonly error: string } {
  if (!text.startsWith('$')) {
    return { error: 'has a plaintext password; only hashes are accepted' }
  }
  if (text.startsWith('$argon2id$')) return decodeArgon2id(text)
  const p = pbkdf2Pattern.exec(text)
  if (p !== null) {
    const iterations = Number(p[1])
    if (iterations < 1 || iterations > maxPbkdf2Iterations) {
      return { error: `has a $7$ hash with ${String(iterations)} iterations (1 to 10,000,000)` }
    }
    return withSaltAndHash(p[2], p[3], (salt, h) => ({
      kind: 'sha512-pbkdf2',
      iterations,
      salt,
      hash: h,
    }))
  }
  const s = sha512Pattern.exec(text)
  if (s !== null) {
    return withSaltAndHash(s[1], s[2], (salt, h) => ({ kind: 'sha512', salt, hash: h }))
  }
  const type = /^\$([^$]*)\$/.exec(text)?.[1]
  return {
    error:
      type === undefined || type === '6' || type === '7'
        ? 'has a malformed hash'
        : `has a hash of unsupported type "$${type.slice(0, 16)}$"`,
  }
}

function decodeArgon2id(text: string): StoredHash | { readonly error: string } {
  let options: ReturnType<typeof parseOptions>
  try {
    options = parseOptions(text)
  } catch {
    // The parser's message may quote the hash; the line number is enough.
    return { error: 'has a malformed $argon2id$ hash' }
  }
  const { memoryCost: m, timeCost: t, parallelism: p } = options
  if (m > maxArgon2MemoryKiB || t > maxArgon2TimeCost || p > maxArgon2Parallelism) {
    return {
      error: `has an argon2id hash too costly to verify (m=${String(m)},t=${String(t)},p=${String(p)})`,
    }
  }
  return { kind: 'argon2id', encoded: text }
}

function withSaltAndHash(
  saltB64: string | undefined,
  hashB64: string | undefined,
  make: (salt: Buffer, hash: Buffer) => StoredHash,
): StoredHash | { readonly error: string } {
  const salt = Buffer.from(saltB64 ?? '', 'base64')
  const h = Buffer.from(hashB64 ?? '', 'base64')
  // Mosquitto: `salt_len != 12 && salt_len != HASH_LEN` and `password_len != HASH_LEN` are invalid.
  if (salt.length !== 12 && salt.length !== 64) {
    return { error: `has a salt of ${String(salt.length)} bytes (12 or 64 expected)` }
  }
  if (h.length !== 64) return { error: `has a hash of ${String(h.length)} bytes (64 expected)` }
  return make(salt, h)
}

/**
 * True when the password matches the stored hash. Comparisons of derived bytes are
 * constant-time. @node-rs/argon2 refuses passwords that are not UTF-8 (which no argon2id hash
 * we write can match) and, in theory, hashes it cannot process: both count as a mismatch.
 */
export async function verifyStoredHash(stored: StoredHash, password: Uint8Array): Promise<boolean> {
  switch (stored.kind) {
    case 'argon2id':
      try {
        // It throws synchronously for such input, hence try/await rather than .catch().
        return await verify(stored.encoded, password)
      } catch {
        return false
      }
    case 'sha512-pbkdf2': {
      const derived = await pbkdf2Async(password, stored.salt, stored.iterations, 64, 'sha512')
      return timingSafeEqual(derived, stored.hash)
    }
    case 'sha512': {
      const digest = createHash('sha512').update(password).update(stored.salt).digest()
      return timingSafeEqual(digest, stored.hash)
    }
  }
}

/** Hashes a password for a new password file line (argon2id, PHC form, random 16-byte salt). */
export async function hashPassword(password: Uint8Array): Promise<string> {
  const encoded = await hash(password, argon2idOptions)
  if (!encoded.startsWith(argon2idPrefix)) {
    throw new Error(`@node-rs/argon2 wrote ${encoded.slice(0, 32)}…, not ${argon2idPrefix}…`)
  }
  return encoded
}
