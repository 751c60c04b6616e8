import { randomBytes } from 'node:crypto'
import type { AuditLog } from '../audit/audit-log.js'
import type { StateDb } from '../db/state-db.js'
import { CloudError, notFound } from '../errors.js'
import { hashPassword, verifyPassword } from '../secrets/passwords.js'
import type { SecretStore } from '../secrets/secret-store.js'
import { parseToken } from '../secrets/token-format.js'
import { isRole, requireGrantable, requirePermission, type Principal, type Role } from './roles.js'

export interface Tenant {
  readonly id: string
  readonly name: string
  /** New devices wait in `pending` until an operator approves them. */
  readonly requireApproval: boolean
  readonly createdAt: number
}

export interface User {
  readonly id: string
  readonly tenantId: string
  readonly email: string
  readonly role: Role
  readonly platformAdmin: boolean
  readonly createdAt: number
  readonly disabledAt: number | null
}

export interface AccountsOptions {
  /** How long a login session lasts (default 12 h). */
  readonly sessionTtlMs: number
}

export const defaultAccountsOptions: AccountsOptions = { sessionTtlMs: 12 * 3600_000 }

interface UserRow {
  id: string
  tenant_id: string
  email: string
  password_hash: string
  role: Role
  platform_admin: number
  created_at: number
  disabled_at: number | null
}

const tenantIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/
/** A dummy argon2id hash so a login for an unknown email costs as much as a wrong password. */
const dummyHash =
  '$argon2id$v=19$m=19456,t=2,p=1$ntoBvjZI5VlOp6RbGqxPYw$3ggSIlvMxcEc2VfiJiADwQg3a6ZF0VRvyuHsXoFxdDY'

/**
 * Tenants, users, login sessions and API tokens, and turning a bearer token into a `Principal`.
 * There is no default account: the first admin is made once with the setup token.
 */
export class Accounts {
  readonly #db: StateDb
  readonly #secrets: SecretStore
  readonly #audit: AuditLog
  readonly #clock: () => number
  readonly #options: AccountsOptions
  readonly #onSetupComplete: () => void

  constructor(
    deps: {
      db: StateDb
      secrets: SecretStore
      audit: AuditLog
      clock: () => number
      /** Called once the first admin exists (the node deletes the setup-token file). */
      onSetupComplete?: () => void
    },
    options: AccountsOptions = defaultAccountsOptions,
  ) {
    this.#db = deps.db
    this.#secrets = deps.secrets
    this.#audit = deps.audit
    this.#clock = deps.clock
    this.#options = options
    this.#onSetupComplete = deps.onSetupComplete ?? (() => undefined)
  }

  /** True until the first admin exists. */
  setupPending(): boolean {
    return this.#db.prepare('SELECT 1 FROM users LIMIT 1').get() === undefined
  }

  /**
   * A fresh one-time setup token (any earlier one is revoked: only the newest works). Undefined when
   * setup is done.
   */
  async issueSetupToken(): Promise<string | undefined> {
    if (!this.setupPending()) return undefined
    this.#secrets.revokeAll('setup', 'node')
    const { token } = await this.#secrets.create({
      kind: 'setup',
      tenantId: null,
      subject: 'node',
      maxUses: 1,
    })
    return token
  }

  /** Uses the setup token: creates the first tenant and its admin (a platform admin). */
  async completeSetup(
    token: string,
    input: { email: string; password: string; tenantId?: string; tenantName?: string },
  ): Promise<{ tenant: Tenant; user: User }> {
    if (!this.setupPending()) {
      throw new CloudError('CLOUD_SETUP_DONE', 'setup is done: the first admin exists', {
        hint: 'Log in with that admin; `strata admin` manages further users.',
      })
    }
    const secret = await this.#secrets.verify(token, 'setup')
    const passwordHash = await hashPassword(input.password)
    const done = this.#db.transaction(() => {
      if (!this.#secrets.consumeUse(secret.id) || !this.setupPending()) {
        throw new CloudError('CLOUD_SETUP_DONE', 'the setup token was already used')
      }
      this.#secrets.revoke(secret.id)
      const tenant = this.#insertTenant(input.tenantId ?? 'default', input.tenantName ?? 'Default')
      const user = this.#insertUser(tenant.id, input.email, passwordHash, 'admin', true)
      this.#audit.append({
        tenantId: null,
        actor: 'setup',
        action: 'setup.complete',
        target: `user:${user.id}`,
        outcome: 'ok',
        details: { tenant: tenant.id, email: user.email },
      })
      return { tenant, user }
    })()
    this.#onSetupComplete()
    return done
  }

  /** Creates a tenant; platform admins only. */
  createTenant(
    principal: Principal,
    input: { id: string; name: string; requireApproval?: boolean },
  ): Tenant {
    requirePlatformAdmin(principal)
    return this.#db.transaction(() => {
      const tenant = this.#insertTenant(input.id, input.name, input.requireApproval ?? false)
      this.#audit.append({
        tenantId: null,
        actor: principal.actor,
        action: 'tenant.create',
        target: `tenant:${tenant.id}`,
        outcome: 'ok',
      })
      return tenant
    })()
  }

  /** Every tenant for a platform admin; a tenant's own for anyone else. */
  listTenants(principal: Principal): Tenant[] {
    const rows = principal.platformAdmin
      ? this.#db.prepare('SELECT * FROM tenants ORDER BY id').all()
      : this.#db.prepare('SELECT * FROM tenants WHERE id = ?').all(principal.tenantId)
    return (
      rows as { id: string; name: string; require_approval: number; created_at: number }[]
    ).map((r) => ({
      id: r.id,
      name: r.name,
      requireApproval: r.require_approval === 1,
      createdAt: r.created_at,
    }))
  }

  tenant(id: string): Tenant | undefined {
    const r = this.#db.prepare('SELECT * FROM tenants WHERE id = ?').get(id) as
      { id: string; name: string; require_approval: number; created_at: number } | undefined
    return r === undefined
      ? undefined
      : {
          id: r.id,
          name: r.name,
          requireApproval: r.require_approval === 1,
          createdAt: r.created_at,
        }
  }

  /**
   * Creates a user. A tenant admin creates users in its own tenant; a platform admin may name
   * another tenant (to give it its first admin).
   */
  async createUser(
    principal: Principal,
    input: { email: string; password: string; role: Role; tenantId?: string },
  ): Promise<User> {
    const tenantId = input.tenantId ?? principal.tenantId
    if (tenantId !== principal.tenantId) requirePlatformAdmin(principal)
    else {
      requirePermission(principal, 'users:manage')
      requireGrantable(principal, input.role)
    }
    if (this.tenant(tenantId) === undefined) throw notFound('tenant', tenantId)
    const passwordHash = await hashPassword(input.password)
    return this.#db.transaction(() => {
      const user = this.#insertUser(tenantId, input.email, passwordHash, input.role, false)
      this.#audit.append({
        tenantId,
        actor: principal.actor,
        action: 'user.create',
        target: `user:${user.id}`,
        outcome: 'ok',
        details: { email: user.email, role: user.role },
      })
      return user
    })()
  }

  listUsers(principal: Principal): User[] {
    requirePermission(principal, 'users:manage')
    return (
      this.#db
        .prepare('SELECT * FROM users WHERE tenant_id = ? ORDER BY email')
        .all(principal.tenantId) as UserRow[]
    ).map(toUser)
  }

  /** Disables a user and ends their sessions at once. */
  disableUser(principal: Principal, userId: string): User {
    requirePermission(principal, 'users:manage')
    const row = this.#userRow(userId)
    if (row?.tenant_id !== principal.tenantId) throw notFound('user', userId)
    if (row.id === principal.id) {
      throw new CloudError('CLOUD_CONFLICT', 'you cannot disable yourself', {
        hint: 'Ask another admin.',
      })
    }
    return this.#db.transaction(() => {
      this.#db
        .prepare('UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL')
        .run(this.#clock(), userId)
      this.#secrets.revokeAll('session', userId)
      this.#audit.append({
        tenantId: principal.tenantId,
        actor: principal.actor,
        action: 'user.disable',
        target: `user:${userId}`,
        outcome: 'ok',
      })
      return toUser(this.#userRow(userId) as UserRow)
    })()
  }

  /** Checks email and password; a session token on success. Every failure looks the same. */
  async login(
    email: string,
    password: string,
  ): Promise<{ token: string; user: User; expiresAt: number }> {
    const row = this.#db.prepare('SELECT * FROM users WHERE email = ?').get(email) as
      UserRow | undefined
    const ok = await verifyPassword(row?.password_hash ?? dummyHash, password)
    if (row === undefined || !ok || row.disabled_at !== null) {
      this.#audit.append({
        tenantId: row?.tenant_id ?? null,
        actor: `email:${email.slice(0, 254)}`,
        action: 'user.login',
        target: row === undefined ? 'user:unknown' : `user:${row.id}`,
        outcome: 'denied',
      })
      throw new CloudError('CLOUD_UNAUTHENTICATED', 'wrong email or password', {
        hint: 'Check both; an admin can reset a password.',
      })
    }
    const expiresAt = this.#clock() + this.#options.sessionTtlMs
    const { token } = await this.#secrets.create({
      kind: 'session',
      tenantId: row.tenant_id,
      subject: row.id,
      expiresAt,
    })
    this.#audit.append({
      tenantId: row.tenant_id,
      actor: `user:${row.id}`,
      action: 'user.login',
      target: `user:${row.id}`,
      outcome: 'ok',
    })
    return { token, user: toUser(row), expiresAt }
  }

  /** Ends a session (or revokes the token a caller authenticated with). */
  logout(token: string): void {
    const parsed = parseToken(token)
    if (parsed?.kind === 'session') this.#secrets.revoke(parsed.id)
  }

  /** The principal a bearer token (a session or an API token) stands for. */
  async authenticate(token: string): Promise<Principal> {
    const kind = parseToken(token)?.kind
    if (kind === 'session') {
      const s = await this.#secrets.verify(token, 'session')
      const row = this.#userRow(s.subject)
      if (row === undefined || row.disabled_at !== null)
        throw new CloudError('CLOUD_UNAUTHENTICATED', 'the session is not valid')
      return {
        kind: 'user',
        id: row.id,
        tenantId: row.tenant_id,
        role: row.role,
        platformAdmin: row.platform_admin === 1,
        actor: `user:${row.id}`,
      }
    }
    if (kind === 'api') {
      const s = await this.#secrets.verify(token, 'api')
      if (s.tenantId === null || !isRole(s.role))
        throw new CloudError('CLOUD_UNAUTHENTICATED', 'the API token is not valid')
      return {
        kind: 'token',
        id: s.id,
        tenantId: s.tenantId,
        role: s.role,
        platformAdmin: false,
        actor: `token:${s.id}`,
      }
    }
    throw new CloudError('CLOUD_UNAUTHENTICATED', 'not a session or API token', {
      hint: 'Send `Authorization: Bearer <token>` with a token from `strata login` or an API token.',
    })
  }

  #insertTenant(id: string, name: string, requireApproval = false): Tenant {
    if (!tenantIdPattern.test(id)) {
      throw new CloudError(
        'CLOUD_INVALID',
        `tenant id ${JSON.stringify(id)} must be 1–63 of a–z, 0–9 and -, starting with a letter or digit`,
        { details: { field: 'id' } },
      )
    }
    if (this.tenant(id) !== undefined) throw new CloudError('CLOUD_CONFLICT', `tenant ${id} exists`)
    const createdAt = this.#clock()
    this.#db
      .prepare('INSERT INTO tenants (id, name, require_approval, created_at) VALUES (?, ?, ?, ?)')
      .run(id, name, requireApproval ? 1 : 0, createdAt)
    return { id, name, requireApproval, createdAt }
  }

  #insertUser(
    tenantId: string,
    email: string,
    passwordHash: string,
    role: Role,
    platformAdmin: boolean,
  ): User {
    if (!/^[^\s@]{1,64}@[^\s@]{1,255}$/.test(email)) {
      throw new CloudError(
        'CLOUD_INVALID',
        `${JSON.stringify(email.slice(0, 80))} is not an email address`,
        { details: { field: 'email' } },
      )
    }
    if (this.#db.prepare('SELECT 1 FROM users WHERE email = ?').get(email) !== undefined) {
      throw new CloudError('CLOUD_CONFLICT', `a user with email ${email} exists`)
    }
    const id = `u_${randomBytes(8).toString('hex')}`
    this.#db
      .prepare(
        'INSERT INTO users (id, tenant_id, email, password_hash, role, platform_admin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, tenantId, email, passwordHash, role, platformAdmin ? 1 : 0, this.#clock())
    return toUser(this.#userRow(id) as UserRow)
  }

  #userRow(id: string): UserRow | undefined {
    return this.#db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined
  }
}

function requirePlatformAdmin(principal: Principal): void {
  if (!principal.platformAdmin) {
    throw new CloudError('CLOUD_FORBIDDEN', 'only a platform admin manages tenants', {
      hint: 'Log in as the admin created at setup.',
    })
  }
}

function toUser(r: UserRow): User {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    email: r.email,
    role: r.role,
    platformAdmin: r.platform_admin === 1,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
  }
}
