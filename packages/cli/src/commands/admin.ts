import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { CliError } from '../errors.js'
import { createApiClient, NodeClientError, readCredentials, urlOf } from './api-client.js'
import { emit, group, remoteVerb, type NodeVerbContext } from './api-output.js'
import { readPassword } from './api-prompt.js'
import { addAccountVerbs } from './admin-accounts.js'
import { addAudit } from './admin-audit.js'
import { logIn, sessionText, type User } from './login.js'

interface SetupFlags {
  url?: string
  email: string
  passwordStdin?: boolean
  tokenFile?: string
  setupToken?: string
  tenant?: string
  tenantName?: string
  json?: boolean
}

/** Registers `strata admin …`: setup, tenants, users, API tokens and the audit log. */
export function addAdmin(program: Command, ctx: NodeVerbContext): void {
  const admin = group(
    program,
    'admin',
    'administer a running node: first admin, tenants, users, API tokens, audit log',
    ctx.out,
  )
  remoteVerb(ctx, admin, 'setup', { tokenFlag: false })
    .description(
      'create the first admin of a new node with its one-time setup token, then log in as them',
    )
    .requiredOption('--email <email>', 'the first admin’s email')
    .option('--password-stdin', 'read the password from standard input (else asked on a terminal)')
    .option(
      '--token-file <file>',
      'the setup token file (DIR/setup-token of `strata up --data DIR`)',
    )
    .option('--setup-token <token>', 'the setup token `strata up` printed')
    .option('--tenant <id>', 'id of the first tenant (default: the node’s default)')
    .option('--tenant-name <name>', 'name of the first tenant')
    .action(async (opts: SetupFlags) => {
      const setupToken = await setupTokenOf(opts)
      const url = urlOf(opts, await readCredentials())
      if (url === undefined)
        throw new NodeClientError('CLI_NOT_LOGGED_IN', 'which node? no --url and no STRATA_URL', {
          hint: 'Pass the URL `strata up` printed: strata admin setup --url http://127.0.0.1:8080 …',
        })
      const password = await readPassword(ctx.stdin ?? process.stdin, ctx.out, {
        fromStdin: opts.passwordStdin === true,
        twice: true,
      })
      const created = await createApiClient(url).post<{ tenant: { id: string }; user: User }>(
        '/api/v1/setup',
        {
          setupToken,
          email: opts.email,
          password,
          ...(opts.tenant === undefined ? {} : { tenantId: opts.tenant }),
          ...(opts.tenantName === undefined ? {} : { tenantName: opts.tenantName }),
        },
      )
      const session = await logIn(url, opts.email, password)
      emit(
        ctx.out,
        opts.json,
        { ok: true, tenant: created.tenant, user: created.user, session },
        () =>
          `created the first admin ${created.user.email} (tenant ${created.tenant.id})\n${sessionText(session)}`,
      )
    })
  addAccountVerbs(admin, ctx)
  addAudit(admin, ctx)
}

async function setupTokenOf(opts: SetupFlags): Promise<string> {
  if (opts.setupToken !== undefined && opts.tokenFile !== undefined)
    throw new CliError('CLI_USAGE', '--setup-token and --token-file do not go together', {
      hint: 'Give one of them.',
    })
  if (opts.setupToken !== undefined) return opts.setupToken
  if (opts.tokenFile === undefined)
    throw new CliError('CLI_USAGE', 'no setup token', {
      hint: 'Pass --token-file DIR/setup-token (DIR is the `strata up --data` folder) or --setup-token TOKEN.',
    })
  try {
    return (await readFile(opts.tokenFile, 'utf8')).trim()
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? String(cause)
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${opts.tokenFile}: ${code}`, {
      hint:
        code === 'ENOENT'
          ? 'The file is deleted once the setup token is used; log in with `strata login` if the node is set up.'
          : 'Check the path and its permissions.',
      cause,
    })
  }
}
