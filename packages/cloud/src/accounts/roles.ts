import { CloudError } from '../errors.js'

/** The roles a user or API token holds within its tenant. */
export const roles = ['admin', 'operator', 'viewer', 'provisioner'] as const
export type Role = (typeof roles)[number]

/** What an action needs. Each role is a fixed set of these (least privilege). */
export type Permission =
  | 'devices:read'
  | 'devices:write'
  | 'devices:credentials'
  | 'devices:revoke'
  | 'telemetry:read'
  | 'telemetry:write'
  | 'twin:read'
  | 'twin:write'
  | 'commands:read'
  | 'commands:send'
  | 'users:manage'
  | 'tokens:manage'
  | 'audit:read'
  | 'metrics:read'
  | 'alarms:read'
  | 'alarms:manage'
  | 'rules:read'
  | 'rules:write'

const grants: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set<Permission>([
    'devices:read',
    'devices:write',
    'devices:credentials',
    'devices:revoke',
    'telemetry:read',
    'telemetry:write',
    'twin:read',
    'twin:write',
    'commands:read',
    'commands:send',
    'users:manage',
    'tokens:manage',
    'audit:read',
    'metrics:read',
    'alarms:read',
    'alarms:manage',
    'rules:read',
    'rules:write',
  ]),
  operator: new Set<Permission>([
    'devices:read',
    'devices:write',
    'telemetry:read',
    'telemetry:write',
    'twin:read',
    'twin:write',
    'commands:read',
    'commands:send',
    'alarms:read',
    'alarms:manage',
    'rules:read',
  ]),
  viewer: new Set<Permission>([
    'devices:read',
    'telemetry:read',
    'twin:read',
    'commands:read',
    'alarms:read',
    'rules:read',
  ]),
  provisioner: new Set<Permission>([
    'devices:read',
    'devices:write',
    'devices:credentials',
    'twin:read',
  ]),
}

/** Who is calling the API: a logged-in user or an API token, always inside one tenant. */
export interface Principal {
  readonly kind: 'user' | 'token'
  /** The user id, or the API token's id. */
  readonly id: string
  readonly tenantId: string
  readonly role: Role
  /** May create tenants (the first admin, made with the setup token, is one). */
  readonly platformAdmin: boolean
  /** The audit log's name for it: `user:<id>` or `token:<id>`. */
  readonly actor: string
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value)
}

export function can(principal: Principal, permission: Permission): boolean {
  return grants[principal.role].has(permission)
}

/** Throws `CLOUD_FORBIDDEN` unless the principal's role grants the permission. */
export function requirePermission(principal: Principal, permission: Permission): void {
  if (!can(principal, permission)) {
    throw new CloudError(
      'CLOUD_FORBIDDEN',
      `role ${principal.role} may not ${permission.replace(':', ' ')}`,
      {
        hint: 'Ask a tenant admin for a token with a role that grants it.',
        details: { permission, role: principal.role },
      },
    )
  }
}

/** A role may only hand out roles it holds the rights of: an admin any, others none. */
export function requireGrantable(principal: Principal, role: Role): void {
  if (principal.role !== 'admin') {
    throw new CloudError('CLOUD_FORBIDDEN', `role ${principal.role} may not grant role ${role}`, {
      hint: 'Only a tenant admin creates users and API tokens.',
    })
  }
}
