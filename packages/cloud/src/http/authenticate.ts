import type { WithHeaders } from './api-types.js'
import type { Accounts } from '../accounts/accounts.js'
import type { Principal } from '../accounts/roles.js'
import { CloudError } from '../errors.js'

/**
 * The token in `Authorization: Bearer <token>` (or `Token <token>`, as InfluxDB clients send it).
 */
export function tokenOf(request: WithHeaders): string | undefined {
  const header = request.headers.authorization
  if (header === undefined) return undefined
  const match = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

/** Authenticates a request's bearer token as a user session or an API token. */
export function principalResolver(
  accounts: Accounts,
): (request: WithHeaders) => Promise<Principal> {
  return async (request) => {
    const token = tokenOf(request)
    if (token === undefined) {
      throw new CloudError('CLOUD_UNAUTHENTICATED', 'this endpoint needs a token', {
        hint: 'Send `Authorization: Bearer <token>`: log in (`strata login`) or create an API token.',
      })
    }
    return accounts.authenticate(token)
  }
}
