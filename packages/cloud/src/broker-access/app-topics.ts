/**
 * The topics applications read on the node's broker. A tenant's rule outputs (the `republish`
 * action) are published under `strata/v1/tenants/{tenantId}/rules/`, followed by the topic the
 * rule names: a rule of tenant `acme` republishing on `plant/tanks/7` publishes on
 * `strata/v1/tenants/acme/rules/plant/tanks/7`. One tenant's outputs never share a topic with
 * another's, and the device protocol's `strata/v1/devices/…` stays apart.
 */
export const tenantsNamespace = 'strata/v1/tenants'

/** The prefix of a tenant's rule outputs, with its trailing slash. */
export function ruleOutputPrefix(tenantId: string): string {
  return `${tenantsNamespace}/${tenantId}/rules/`
}

/**
 * The topic a rule's `republish` publishes on in the node.
 *
 * @example
 * ruleOutputTopic('acme', 'plant/tanks/7') // 'strata/v1/tenants/acme/rules/plant/tanks/7'
 */
export function ruleOutputTopic(tenantId: string, topic: string): string {
  return `${ruleOutputPrefix(tenantId)}${topic}`
}
