import { AnalyticsError, compileRule, type RuleDefinition } from '@strata/analytics'
import { isStrataError } from '@strata/protocol'
import { CloudError } from '../errors.js'
import { checkDeliveryTarget, type AddressPolicy, type ResolveHost } from './delivery/index.js'

/** One thing wrong with a definition: a JSON pointer into it and what is wrong there. */
export interface RuleViolation {
  readonly path: string
  readonly message: string
}

/**
 * Compiles a definition as the engine will ({@link compileRule}): schema, operators, CEL type
 * checks and cost limits. Every failure carries `details.violations` with JSON pointers: the
 * analytics errors' own for the rule JSON, `/condition`, `/transform` or `/operators/N/input` for
 * an expression. Returns the decoded definition.
 */
export function compileDefinition(raw: unknown): RuleDefinition {
  try {
    return compileRule(raw).definition
  } catch (err) {
    throw withViolations(err)
  }
}

/**
 * {@link compileDefinition}, then the network checks of the actions that leave the node (schemes,
 * no private addresses unless allowed, host names resolved): `CLOUD_DELIVERY_TARGET_INVALID`
 * naming `/actions/N/<field>`. A name that does not resolve is refused too.
 */
export async function checkDefinition(
  raw: unknown,
  policy: AddressPolicy,
  resolve?: ResolveHost,
): Promise<RuleDefinition> {
  const definition = compileDefinition(raw)
  for (const [i, action] of definition.actions.entries()) {
    if (action.type !== 'webhook' && action.type !== 'amqp' && action.type !== 'nats') continue
    try {
      await checkDeliveryTarget(action, policy, resolve)
    } catch (err) {
      if (!isStrataError(err)) throw err
      const field = typeof err.details['field'] === 'string' ? err.details['field'] : 'target'
      const path = `/actions/${String(i)}${field.replace(/^target/, '')}`
      throw new CloudError('CLOUD_DELIVERY_TARGET_INVALID', `rule: ${path}: ${err.message}`, {
        ...(err.hint === undefined ? {} : { hint: err.hint }),
        details: { field: path, violations: [{ path, message: err.message }] },
        cause: err,
      })
    }
  }
  return definition
}

/** An analytics error with `violations` (expression errors name their expression instead). */
function withViolations(err: unknown): unknown {
  if (!(err instanceof AnalyticsError) || Array.isArray(err.details['violations'])) return err
  const expression = err.details['expression']
  const path = typeof expression === 'string' ? `/${expression}` : ''
  const violations: RuleViolation[] = [{ path, message: err.message }]
  return new AnalyticsError(err.code, err.message, {
    ...(err.hint === undefined ? {} : { hint: err.hint }),
    details: { ...err.details, violations },
    cause: err,
  })
}
