import { hash, verify } from '@node-rs/argon2'
import { CloudError } from '../errors.js'

const argon2Options = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

/** Shortest password accepted; length beats composition rules (NIST SP 800-63B). */
export const minPasswordLength = 12
const maxPasswordLength = 256

/** Hashes a password with argon2id, after checking its length. */
export async function hashPassword(password: string): Promise<string> {
  if (password.length < minPasswordLength || password.length > maxPasswordLength) {
    throw new CloudError(
      'CLOUD_INVALID',
      `a password must be ${String(minPasswordLength)} to ${String(maxPasswordLength)} characters`,
      { hint: 'Use a passphrase of several words.', details: { field: 'password' } },
    )
  }
  return hash(password, argon2Options)
}

/** True when `password` matches the argon2id `passwordHash`. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  if (password.length > maxPasswordLength) return false
  return verify(passwordHash, password).catch(() => false)
}
