import type { Command } from 'commander'
import {
  createApiClient,
  deleteCredentials,
  NodeClientError,
  readCredentials,
  saveCredentials,
  urlOf,
  type RemoteFlags,
} from './api-client.js'
import { emit, fields, remoteVerb, when, type NodeVerbContext } from './api-output.js'
import { readPassword } from './api-prompt.js'

/** A user as the node returns it. */
export interface User {
  readonly id: string
  readonly tenantId: string
  readonly email: string
  readonly role: string
  readonly platformAdmin: boolean
  readonly createdAt: number
  readonly disabledAt: number | null
}

/** What logging in saved. */
export interface Session {
  readonly url: string
  readonly email: string
  readonly user: User
  readonly expiresAt: number
  readonly credentials: string
}

/** Registers `strata login` and `strata logout`. */
export function addLogin(program: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  remoteVerb(ctx, program, 'login', { tokenFlag: false })
    .description(
      'log in to a node and save the session (credentials.json in $STRATA_CONFIG_DIR, default ~/.config/strata, mode 0600)',
    )
    .requiredOption('--email <email>', 'your email')
    .option('--password-stdin', 'read the password from standard input (else asked on a terminal)')
    .action(
      async (opts: RemoteFlags & { email: string; passwordStdin?: boolean; json?: boolean }) => {
        const url = urlOf(opts, await readCredentials())
        if (url === undefined)
          throw new NodeClientError('CLI_NOT_LOGGED_IN', 'which node? no --url and no STRATA_URL', {
            hint: 'Pass the URL `strata up` printed: strata login --url http://127.0.0.1:8080 --email …',
          })
        const password = await readPassword(ctx.stdin ?? process.stdin, out, {
          fromStdin: opts.passwordStdin === true,
          twice: false,
        })
        const session = await logIn(url, opts.email, password)
        emit(out, opts.json, { ok: true, ...session }, () => sessionText(session))
      },
    )

  ctx
    .subcommand(program, 'logout', out)
    .description('end the saved session on the node and delete it')
    .action(async (opts: { json?: boolean }) => {
      const saved = await readCredentials()
      let ended = false
      if (saved !== undefined && saved.expiresAt > Date.now()) {
        // Best effort: the local session is deleted even when the node is gone.
        ended = await createApiClient(saved.url, saved.token)
          .post('/api/v1/auth/logout')
          .then(
            () => true,
            () => false,
          )
      }
      const deleted = await deleteCredentials()
      emit(
        out,
        opts.json,
        { ok: true, loggedOut: deleted, url: saved?.url ?? null, endedOnNode: ended },
        () =>
          saved === undefined
            ? 'not logged in; nothing to do'
            : `logged out of ${saved.url}${ended ? '' : ' (the node did not confirm; the session was deleted here)'}`,
      )
    })
}

/** Logs in and saves the session; used by `login` and `admin setup`. */
export async function logIn(url: string, email: string, password: string): Promise<Session> {
  const reply = await createApiClient(url).post<{ token: string; expiresAt: number; user: User }>(
    '/api/v1/auth/login',
    { email, password },
  )
  const credentials = await saveCredentials({
    url,
    token: reply.token,
    expiresAt: reply.expiresAt,
    email,
  })
  return { url, email, user: reply.user, expiresAt: reply.expiresAt, credentials }
}

export function sessionText(s: Session): string {
  return `logged in to ${s.url} as ${s.email}\n${fields([
    ['role', `${s.user.role}${s.user.platformAdmin ? ' (platform admin)' : ''}`],
    ['tenant', s.user.tenantId],
    ['until', when(s.expiresAt)],
    ['saved in', s.credentials],
  ])}`
}
