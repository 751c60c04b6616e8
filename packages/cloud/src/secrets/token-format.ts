import { randomBytes } from 'node:crypto'

/**
 * What a secret is for; its prefix starts the token so that a leaked token says what it is (and
 * secret scanners can find it): `sat_…` an API token, `ses_…` a login session, `sdt_…` a device
 * token, `scl_…` a claim token, `sst_…` the one-time setup token.
 */
export const secretKinds = {
  api: 'sat',
  session: 'ses',
  device: 'sdt',
  claim: 'scl',
  setup: 'sst',
} as const

export type SecretKind = keyof typeof secretKinds

/** A token split into its parts: `<prefix>_<id>_<secret>`. */
export interface ParsedToken {
  readonly kind: SecretKind
  readonly id: string
  readonly secret: string
}

const idPattern = /^[0-9a-f]{16}$/
const secretPattern = /^[A-Za-z0-9_-]{43}$/

/** A new random id (64 bits, hex) and secret (256 bits, base64url) and the token that joins them. */
export function newToken(kind: SecretKind): { id: string; secret: string; token: string } {
  const id = randomBytes(8).toString('hex')
  const secret = randomBytes(32).toString('base64url')
  return { id, secret, token: `${secretKinds[kind]}_${id}_${secret}` }
}

/** Splits a token; undefined when it is not one of ours (wrong shape or prefix). */
export function parseToken(token: string): ParsedToken | undefined {
  if (token.length !== 3 + 1 + 16 + 1 + 43) return undefined
  const prefix = token.slice(0, 3)
  const id = token.slice(4, 20)
  const secret = token.slice(21)
  if (token[3] !== '_' || token[20] !== '_') return undefined
  if (!idPattern.test(id) || !secretPattern.test(secret)) return undefined
  const kind = (Object.keys(secretKinds) as SecretKind[]).find((k) => secretKinds[k] === prefix)
  return kind === undefined ? undefined : { kind, id, secret }
}
