import type { Principal, Role } from '../api/types.js'

export type Permission =
  | 'devices:read'
  | 'devices:write'
  | 'devices:credentials'
  | 'devices:revoke'
  | 'telemetry:read'
  | 'twin:read'
  | 'twin:write'
  | 'commands:read'
  | 'commands:send'
  | 'users:manage'
  | 'tokens:manage'
  | 'audit:read'
  | 'alarms:read'
  | 'alarms:manage'
  | 'rules:read'
  | 'rules:write'

/**
 * What each role may do, as packages/cloud/src/accounts/roles.ts grants it (docs/node.md §2). The
 * console only uses it to hide what would be refused: the API checks every call anyway.
 */
const grants: Readonly<Record<Role, readonly Permission[]>> = {
  admin: [
    'devices:read',
    'devices:write',
    'devices:credentials',
    'devices:revoke',
    'telemetry:read',
    'twin:read',
    'twin:write',
    'commands:read',
    'commands:send',
    'users:manage',
    'tokens:manage',
    'audit:read',
    'alarms:read',
    'alarms:manage',
    'rules:read',
    'rules:write',
  ],
  operator: [
    'devices:read',
    'devices:write',
    'telemetry:read',
    'twin:read',
    'twin:write',
    'commands:read',
    'commands:send',
    'alarms:read',
    'alarms:manage',
    'rules:read',
  ],
  viewer: [
    'devices:read',
    'telemetry:read',
    'twin:read',
    'commands:read',
    'alarms:read',
    'rules:read',
  ],
  provisioner: ['devices:read', 'devices:write', 'devices:credentials', 'twin:read'],
}

/** Whether the principal's role grants a permission. */
export function can(principal: Principal | undefined, permission: Permission): boolean {
  return principal !== undefined && grants[principal.role].includes(permission)
}
