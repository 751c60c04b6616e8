import Type, { type TSchema } from 'typebox'
import { roles } from '../accounts/roles.js'
import { deviceStates } from '../registry/device-lifecycle.js'
import { ProfileSpec } from '../registry/profile-spec.js'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const EpochMs = Type.Integer({ description: 'milliseconds since 1970-01-01T00:00:00Z' })

export const RoleSchema = Type.Enum(roles)
export const DeviceStateSchema = Type.Enum(deviceStates)
export const Labels = Type.Record(Type.String(), Type.String(), {
  description: 'label name → value',
})
export const Attributes = Type.Record(Type.String(), Type.Unknown())

export const TenantSchema = Type.Object(
  { id: Type.String(), name: Type.String(), requireApproval: Type.Boolean(), createdAt: EpochMs },
  { title: 'Tenant' },
)
export const UserSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    email: Type.String(),
    role: RoleSchema,
    platformAdmin: Type.Boolean(),
    createdAt: EpochMs,
    disabledAt: Nullable(EpochMs),
  },
  { title: 'User' },
)
export const ApiTokenSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    name: Type.String(),
    role: RoleSchema,
    createdBy: Nullable(Type.String()),
    createdAt: EpochMs,
    expiresAt: Nullable(EpochMs),
    revokedAt: Nullable(EpochMs),
    lastUsedAt: Nullable(EpochMs),
  },
  { title: 'ApiToken' },
)
export const PresenceSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('online'), Type.Literal('sleeping'), Type.Literal('offline')]),
    reason: Type.String(),
    since: EpochMs,
    lastSeenAt: Nullable(EpochMs),
    wakeBy: Nullable(EpochMs),
  },
  { title: 'Presence' },
)
export const DeviceSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    name: Type.String(),
    profileId: Nullable(Type.String()),
    state: DeviceStateSchema,
    stateReason: Type.String(),
    labels: Labels,
    attributes: Attributes,
    createdAt: EpochMs,
    updatedAt: EpochMs,
    presence: PresenceSchema,
  },
  { title: 'Device' },
)
export const DeviceTokenSchema = Type.Object(
  {
    id: Type.String(),
    deviceId: Type.String(),
    createdAt: EpochMs,
    expiresAt: Nullable(EpochMs),
    revokedAt: Nullable(EpochMs),
    lastUsedAt: Nullable(EpochMs),
  },
  { title: 'DeviceToken' },
)
export const ProfileSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    name: Type.String(),
    description: Type.String(),
    spec: ProfileSpec,
    createdAt: EpochMs,
    updatedAt: EpochMs,
  },
  { title: 'Profile' },
)
export const GroupSchema = Type.Object(
  {
    id: Type.String(),
    tenantId: Type.String(),
    name: Type.String(),
    kind: Type.Union([Type.Literal('static'), Type.Literal('dynamic')]),
    query: Nullable(Type.String({ description: 'label query of a dynamic group' })),
    createdAt: EpochMs,
  },
  { title: 'Group' },
)

/** A page of items and the cursor of the next page (null on the last). */
export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) })

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
}

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) })
export { EpochMs, Nullable }
