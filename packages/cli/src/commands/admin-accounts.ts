import { roles } from '@strata/cloud'
import { Option, type Command } from 'commander'
import { connect, pathOf, type RemoteFlags } from './api-client.js'
import { emit, group, parseDays, remoteVerb, table, when } from './api-output.js'
import type { NodeVerbContext } from './api-output.js'
import { readPassword } from './api-prompt.js'
import type { User } from './login.js'

interface Tenant {
  readonly id: string
  readonly name: string
  readonly requireApproval: boolean
  readonly createdAt: number
}

interface ApiToken {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly role: string
  readonly createdBy: string | null
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly revokedAt: number | null
  readonly lastUsedAt: number | null
}

type Flags = RemoteFlags & { json?: boolean }

const roleOption = () =>
  new Option('--role <role>', 'the role').choices(roles).makeOptionMandatory(true)

/** Registers `strata admin tenants|users|tokens …`. */
export function addAccountVerbs(admin: Command, ctx: NodeVerbContext): void {
  addTenants(admin, ctx)
  addUsers(admin, ctx)
  addTokens(admin, ctx)
}

function addTenants(admin: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  const tenants = group(admin, 'tenants', 'list and create tenants (platform admins)', out)
  remoteVerb(ctx, tenants, 'list')
    .description('list tenants: all for a platform admin, your own otherwise')
    .action(async (opts: Flags) => {
      const { items } = await (await connect(opts)).get<{ items: Tenant[] }>('/api/v1/tenants')
      emit(out, opts.json, { items }, () =>
        table(
          out,
          ['id', 'name', 'approval', 'created'],
          items.map((t) => [t.id, t.name, t.requireApproval ? 'required' : '-', when(t.createdAt)]),
          'no tenants',
        ),
      )
    })
  remoteVerb(ctx, tenants, 'create')
    .description('create a tenant')
    .argument('<id>', 'the tenant id (lowercase letters, digits, -)')
    .requiredOption('--name <name>', 'a display name')
    .option('--require-approval', 'new devices wait for `strata devices approve`')
    .action(async (id: string, opts: Flags & { name: string; requireApproval?: boolean }) => {
      const tenant = await (
        await connect(opts)
      ).post<Tenant>('/api/v1/tenants', {
        id,
        name: opts.name,
        ...(opts.requireApproval === true ? { requireApproval: true } : {}),
      })
      emit(out, opts.json, tenant, () => `created tenant ${tenant.id} (${tenant.name})`)
    })
}

function addUsers(admin: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  const users = group(admin, 'users', 'list, create and disable users of your tenant', out)
  remoteVerb(ctx, users, 'list')
    .description('list the users of your tenant')
    .action(async (opts: Flags) => {
      const { items } = await (await connect(opts)).get<{ items: User[] }>('/api/v1/users')
      emit(out, opts.json, { items }, () =>
        table(
          out,
          ['id', 'email', 'role', 'created', 'disabled'],
          items.map((u) => [
            u.id,
            u.email,
            `${u.role}${u.platformAdmin ? ' (platform)' : ''}`,
            when(u.createdAt),
            when(u.disabledAt),
          ]),
          'no users',
        ),
      )
    })
  remoteVerb(ctx, users, 'create')
    .description('create a user; the password comes from standard input or a prompt')
    .requiredOption('--email <email>', 'the user’s email')
    .addOption(roleOption())
    .option('--tenant <id>', 'another tenant (platform admins)')
    .option('--password-stdin', 'read the password from standard input (else asked on a terminal)')
    .action(
      async (
        opts: Flags & { email: string; role: string; tenant?: string; passwordStdin?: boolean },
      ) => {
        const client = await connect(opts)
        const password = await readPassword(ctx.stdin ?? process.stdin, out, {
          fromStdin: opts.passwordStdin === true,
          twice: true,
        })
        const user = await client.post<User>('/api/v1/users', {
          email: opts.email,
          password,
          role: opts.role,
          ...(opts.tenant === undefined ? {} : { tenantId: opts.tenant }),
        })
        emit(
          out,
          opts.json,
          user,
          () => `created user ${user.email} (${user.role} of ${user.tenantId}, id ${user.id})`,
        )
      },
    )
  remoteVerb(ctx, users, 'disable')
    .description('disable a user and end their sessions')
    .argument('<id>', 'the user id (see `admin users list`)')
    .action(async (id: string, opts: Flags) => {
      const user = await (await connect(opts)).post<User>(pathOf`/api/v1/users/${id}/disable`)
      emit(out, opts.json, user, () => `disabled user ${user.email} (${user.id})`)
    })
}

function addTokens(admin: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  const tokens = group(admin, 'tokens', 'list, create and revoke API tokens of your tenant', out)
  remoteVerb(ctx, tokens, 'list')
    .description('list API tokens (never their secrets)')
    .action(async (opts: Flags) => {
      const { items } = await (await connect(opts)).get<{ items: ApiToken[] }>('/api/v1/tokens')
      emit(out, opts.json, { items }, () =>
        table(
          out,
          ['id', 'name', 'role', 'created', 'expires', 'last used', 'revoked'],
          items.map((t) => [
            t.id,
            t.name,
            t.role,
            when(t.createdAt),
            when(t.expiresAt),
            when(t.lastUsedAt),
            when(t.revokedAt),
          ]),
          'no API tokens',
        ),
      )
    })
  remoteVerb(ctx, tokens, 'create')
    .description('create an API token; its secret is shown once')
    .requiredOption('--name <name>', 'what it is for')
    .addOption(roleOption())
    .option('--expires-in-days <n>', 'expire after N days (default: never)', parseDays)
    .action(async (opts: Flags & { name: string; role: string; expiresInDays?: number }) => {
      const created = await (
        await connect(opts)
      ).post<{ token: string; apiToken: ApiToken }>('/api/v1/tokens', {
        name: opts.name,
        role: opts.role,
        ...(opts.expiresInDays === undefined ? {} : { expiresInDays: opts.expiresInDays }),
      })
      const t = created.apiToken
      emit(out, opts.json, created, () =>
        [
          `created API token ${t.id} (${t.name}, ${t.role}, expires ${when(t.expiresAt)})`,
          'its secret, shown only now:',
          `  ${created.token}`,
          'use it with --token, STRATA_TOKEN or `Authorization: Bearer`',
        ].join('\n'),
      )
    })
  remoteVerb(ctx, tokens, 'revoke')
    .description('revoke an API token')
    .argument('<id>', 'the token id (see `admin tokens list`)')
    .action(async (id: string, opts: Flags) => {
      const t = await (await connect(opts)).delete<ApiToken>(pathOf`/api/v1/tokens/${id}`)
      emit(out, opts.json, t, () => `revoked API token ${t.id} (${t.name})`)
    })
}
