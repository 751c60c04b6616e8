import { StrataError, type StrataErrorOptions } from '@strata/protocol'

/**
 * Every error code the cloud services throw (the identity module keeps its own registry in
 * `identity/identity-error.ts`). `docs/errors.md` lists the same codes; `npm run check:docs` fails
 * when the two disagree. The HTTP API maps each to a status (`http/problem.ts`).
 */
export const cloudErrorCodes = {
  CLOUD_UNAUTHENTICATED:
    'No credentials, or credentials that are wrong, expired or revoked (a token, a session, a password).',
  CLOUD_FORBIDDEN:
    'The credentials are good but their role or tenant does not allow this action on this resource.',
  CLOUD_NOT_FOUND:
    'No such resource in your tenant (another tenant’s resources are not found either).',
  CLOUD_CONFLICT:
    'The resource already exists, or changed since you read it, or is in a state that forbids the action (e.g. activating a revoked device).',
  CLOUD_INVALID:
    'A request body, parameter or query that does not match its schema; the message names the field.',
  CLOUD_SETUP_DONE: 'The one-time setup token was already used: the first admin exists.',
  CLOUD_RATE_LIMITED: 'Too many requests or failed attempts; wait for the time the message gives.',
  CLOUD_STATE_CORRUPT:
    'The node’s database is not one this build can open (not SQLite, damaged, or a newer schema).',
  CLOUD_PORT_IN_USE:
    'A port the node was asked to listen on is taken; the message names the port and its flag.',
  CLOUD_DATA_LOCKED: 'The data folder is in use by another Strata node.',
  CLOUD_PRECONDITION_FAILED:
    'An `If-Match` that does not match: the resource (a twin’s desired state) changed since you read it.',
  CLOUD_TWIN_TOO_LARGE:
    'A twin document would be over 256 KiB of JSON or 16 levels deep after the patch, or the patch itself is too large.',
  CLOUD_COMMAND_UNKNOWN:
    'A device answered a command that does not exist or is not its own (MQTT only: PUBACK 0x83 and the errors topic).',
  CLOUD_LIVE_LIMIT:
    'A live-feed limit was reached: connections on the node or per token, or subscriptions per connection.',
  CLOUD_DELIVERY_TARGET_INVALID:
    'A rule action target (webhook, AMQP, NATS) that is malformed or not allowed: wrong scheme, credentials in a webhook URL, a short secret, a private address.',
  CLOUD_DELIVERY_ADDRESS_FORBIDDEN:
    'A delivery target’s host resolves to a loopback, link-local or private address and the node does not allow private networks.',
  CLOUD_DELIVERY_MESSAGE_INVALID:
    'A rule action message that cannot be queued: not JSON, over the size limit, or with a malformed id.',
  CLOUD_DELIVERY_QUEUE_FULL:
    'The delivery outbox holds its maximum number of messages; the message was refused, not queued.',
  CLOUD_DELIVERY_FAILED:
    'One attempt to deliver a rule action failed (HTTP status, broker error, timeout); retried or dead-lettered.',
  CLOUD_DELIVERY_CLOSED:
    'The delivery outbox is closed (the node is stopping); nothing was queued.',
  CLOUD_ALARM_STATE:
    'An alarm action its status forbids: acknowledging an alarm that is not active, clearing one already cleared.',
  CLOUD_RULE_ACTION_FAILED:
    'A rule action inside the node failed (storing the output, a republish, a twin patch, a command, an alarm); counted in the rule’s stats and logged, never thrown into ingestion.',
  CLOUD_INTERNAL:
    'An unexpected failure inside the node; the reply carries the request id the node logged it with.',
} as const

export type CloudErrorCode = keyof typeof cloudErrorCodes

/** An error from the cloud services. */
export class CloudError extends StrataError {
  declare readonly code: CloudErrorCode
  constructor(code: CloudErrorCode, message: string, options: StrataErrorOptions = {}) {
    super(code, message, options)
  }
}

/** `CLOUD_NOT_FOUND` for a resource that is not in the caller's tenant (or nowhere). */
export function notFound(what: string, id: string): CloudError {
  return new CloudError('CLOUD_NOT_FOUND', `no ${what} ${JSON.stringify(id)} in your tenant`)
}
