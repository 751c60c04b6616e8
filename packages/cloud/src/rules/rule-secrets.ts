import type { RuleAction, RuleDefinition } from '@strata/analytics'
import { CloudError } from '../errors.js'

/**
 * What the API shows in place of a secret: a webhook's `secret` and header values, an AMQP URL's
 * password, a NATS `token`. Sent back in a write, it keeps the saved secret.
 */
export const hiddenSecret = '********'

/**
 * The definition with every secret replaced by {@link hiddenSecret}: what every API response
 * holds (rules, versions, dry-run results).
 *
 * @example
 * redactDefinition(rule.definition).actions[0] // { type: 'webhook', url, secret: '********' }
 */
export function redactDefinition(definition: RuleDefinition): RuleDefinition {
  return { ...definition, actions: redactActions(definition.actions) }
}

/** {@link redactDefinition} for a list of actions (a dry run's results carry them). */
export function redactActions(actions: readonly RuleAction[]): RuleAction[] {
  return actions.map(redactAction)
}

function redactAction(action: RuleAction): RuleAction {
  switch (action.type) {
    case 'webhook':
      return {
        ...action,
        secret: hiddenSecret,
        ...(action.headers === undefined
          ? {}
          : {
              headers: Object.fromEntries(
                Object.keys(action.headers).map((k) => [k, hiddenSecret]),
              ),
            }),
      }
    case 'amqp': {
      const url = parseUrl(action.url)
      if (url === undefined || url.password === '') return action
      url.password = hiddenSecret
      return { ...action, url: url.toString() }
    }
    case 'nats':
      return action.token === undefined ? action : { ...action, token: hiddenSecret }
    default:
      return action
  }
}

type Json = Record<string, unknown>

/**
 * Puts the saved secrets back where a write sends {@link hiddenSecret}, on the raw body, before it
 * is validated. A hidden secret is kept only from a saved action of the same type that talks to
 * the same endpoint (webhook origin, AMQP scheme, host, port and user, NATS servers): changing
 * where a secret goes needs the secret, so someone who may write rules but never saw a secret
 * cannot send it to a host of their own. Throws `CLOUD_INVALID` naming the field otherwise.
 */
export function restoreSecrets(raw: unknown, saved: RuleDefinition | undefined): unknown {
  if (!isObject(raw) || !Array.isArray(raw['actions'])) return raw
  const actions = raw['actions'].map((action: unknown, i: number) => {
    if (!isObject(action)) return action
    const pointer = `/actions/${String(i)}`
    const fields = hiddenFields(action)
    if (fields.length === 0) return action
    const match = counterpart(action, i, saved?.actions ?? [])
    if (match === undefined) throw noSecret(`${pointer}/${fields[0] ?? ''}`)
    return restoreAction(action, match, pointer)
  })
  return { ...raw, actions }
}

/**
 * For a dry run, where nothing is sent: a webhook `secret` given as {@link hiddenSecret} (a rule
 * copied from a response) becomes a stand-in long enough to pass the schema. Other hidden values
 * are valid as they are.
 */
export function fillHiddenSecrets(raw: unknown): unknown {
  if (!isObject(raw) || !Array.isArray(raw['actions'])) return raw
  const actions = raw['actions'].map((action: unknown) =>
    isObject(action) && action['type'] === 'webhook' && action['secret'] === hiddenSecret
      ? { ...action, secret: hiddenSecret.repeat(4) }
      : action,
  )
  return { ...raw, actions }
}

/** The fields of a raw action that hold the placeholder. */
function hiddenFields(action: Json): string[] {
  switch (action['type']) {
    case 'webhook': {
      const headers = isObject(action['headers']) ? action['headers'] : {}
      return [
        ...(action['secret'] === hiddenSecret ? ['secret'] : []),
        ...Object.keys(headers)
          .filter((k) => headers[k] === hiddenSecret)
          .map((k) => `headers/${k}`),
      ]
    }
    case 'amqp': {
      const url = typeof action['url'] === 'string' ? parseUrl(action['url']) : undefined
      return url?.password === hiddenSecret ? ['url'] : []
    }
    case 'nats':
      return action['token'] === hiddenSecret ? ['token'] : []
    default:
      return []
  }
}

/** The saved action a raw one stands for: same type and endpoint, the one at its index first. */
function counterpart(
  action: Json,
  index: number,
  saved: readonly RuleAction[],
): RuleAction | undefined {
  const key = endpointOf(action)
  if (key === undefined) return undefined
  const same = (a: RuleAction | undefined) =>
    a !== undefined && a.type === action['type'] && endpointOf(a) === key
  const atIndex = saved[index]
  return same(atIndex) ? atIndex : saved.find(same)
}

/** Where an action's secret goes; undefined when its address does not parse. */
function endpointOf(action: Json): string | undefined {
  switch (action['type']) {
    case 'webhook':
    case 'amqp': {
      const url = typeof action['url'] === 'string' ? parseUrl(action['url']) : undefined
      if (url === undefined) return undefined
      return action['type'] === 'webhook'
        ? url.origin
        : `${url.protocol}//${url.username}@${url.host}`
    }
    case 'nats': {
      const servers = action['servers']
      if (!Array.isArray(servers) || !servers.every((s) => typeof s === 'string')) return undefined
      return JSON.stringify([...servers].sort())
    }
    default:
      return undefined
  }
}

function restoreAction(action: Json, saved: RuleAction, pointer: string): Json {
  switch (saved.type) {
    case 'webhook': {
      const out: Json = { ...action }
      if (out['secret'] === hiddenSecret) out['secret'] = saved.secret
      if (isObject(action['headers'])) {
        const headers: Json = { ...action['headers'] }
        for (const [k, v] of Object.entries(headers)) {
          if (v !== hiddenSecret) continue
          const kept = saved.headers?.[k]
          if (kept === undefined) throw noSecret(`${pointer}/headers/${k}`)
          headers[k] = kept
        }
        out['headers'] = headers
      }
      return out
    }
    case 'amqp': {
      const url = parseUrl(String(action['url']))
      const savedUrl = parseUrl(saved.url)
      if (url === undefined || savedUrl === undefined || savedUrl.password === '')
        throw noSecret(`${pointer}/url`)
      url.password = savedUrl.password
      return { ...action, url: url.toString() }
    }
    case 'nats':
      if (saved.token === undefined) throw noSecret(`${pointer}/token`)
      return { ...action, token: saved.token }
    default:
      return action
  }
}

function noSecret(pointer: string): CloudError {
  const message = `is "${hiddenSecret}", the placeholder of a saved secret, but no saved action of this type talks to the same endpoint`
  return new CloudError('CLOUD_INVALID', `rule: ${pointer} ${message}`, {
    hint: 'Send the secret itself when you create an action or change where it goes.',
    details: { field: pointer, violations: [{ path: pointer, message }] },
  })
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
