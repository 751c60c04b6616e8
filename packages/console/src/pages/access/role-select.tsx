import type { Role } from '../../api/types.js'

export const roleHelp: Readonly<Record<Role, string>> = {
  admin: 'everything in the tenant',
  operator: 'devices, twins, commands, alarms; reads rules',
  viewer: 'reads everything but users, tokens and the audit log',
  provisioner: 'registers devices and issues their credentials',
}

/** A role picker that says what each role may do (docs/node.md §2). */
export function RoleSelect({ name, value }: { readonly name: string; readonly value: Role }) {
  return (
    <label>
      Role
      <select name={name} defaultValue={value}>
        {(Object.keys(roleHelp) as Role[]).map((r) => (
          <option key={r} value={r}>
            {r}: {roleHelp[r]}
          </option>
        ))}
      </select>
    </label>
  )
}
