import { isStrataError } from '@strata/protocol'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import Type from 'typebox'

/** RFC 9457 problem details, with Strata's error code, hint and details. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    hint: Type.Optional(Type.String()),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { title: 'Problem', description: 'An error, as application/problem+json (RFC 9457).' },
)

const statusByCode: Readonly<Record<string, number>> = {
  CLOUD_UNAUTHENTICATED: 401,
  CLOUD_FORBIDDEN: 403,
  CLOUD_NOT_FOUND: 404,
  CLOUD_CONFLICT: 409,
  CLOUD_SETUP_DONE: 410,
  CLOUD_INVALID: 400,
  CLOUD_RATE_LIMITED: 429,
  CLOUD_CSR_INVALID: 400,
  CLOUD_KEY_UNSUPPORTED: 400,
  CLOUD_CERT_INVALID: 400,
  CLOUD_PRECONDITION_FAILED: 412,
  CLOUD_TWIN_TOO_LARGE: 413,
  CLOUD_DELIVERY_TARGET_INVALID: 400,
  CLOUD_ALARM_STATE: 409,
  TSDB_QUERY_TOO_LARGE: 422,
  TSDB_QUERY_ABORTED: 499,
  TSDB_IO: 503,
  TSDB_CLOSED: 503,
}

/** The HTTP status for an error code: 400 for input the caller can fix, 500 for our faults. */
export function statusOf(code: string): number {
  const known = statusByCode[code]
  if (known !== undefined) return known
  if (code.startsWith('PROTOCOL_') || code.startsWith('TSDB_')) return 400
  // A rule definition or expression that does not compile (details.violations names the fields).
  if (code.startsWith('ANALYTICS_')) return 400
  return 500
}

/** Sends an error as problem+json; unexpected errors are logged and told apart by no details. */
export function sendProblem(
  err: unknown,
  request: Pick<FastifyRequest, 'log' | 'id'>,
  reply: FastifyReply,
): FastifyReply {
  let status: number
  let body: Record<string, unknown>
  if (isStrataError(err)) {
    status = statusOf(err.code)
    body = {
      code: err.code,
      detail: err.message,
      ...(err.hint === undefined ? {} : { hint: err.hint }),
      ...(Object.keys(err.details).length === 0 ? {} : { details: err.details }),
    }
  } else if (isFastifyError(err) && err.validation !== undefined) {
    status = 400
    body = {
      code: 'CLOUD_INVALID',
      detail: `${err.validationContext ?? 'request'}${err.message.replace(/^(body|querystring|params|headers)/, '')}`,
      hint: 'The OpenAPI document at /api/v1/openapi.json describes every request.',
    }
  } else if (isFastifyError(err) && err.statusCode !== undefined && err.statusCode < 500) {
    status = err.statusCode
    body = {
      code:
        status === 429 ? 'CLOUD_RATE_LIMITED' : status === 413 ? 'CLOUD_INVALID' : 'CLOUD_INVALID',
      detail: err.message,
    }
  } else {
    request.log.error({ err }, 'request failed')
    status = 500
    body = {
      code: 'CLOUD_INTERNAL',
      detail: 'internal error; the node logged it with this request id',
      details: { requestId: request.id },
    }
  }
  return reply
    .status(status)
    .type('application/problem+json')
    .send({
      type: `urn:strata:error:${String(body.code)}`,
      title: titleOf(status),
      status,
      ...body,
    })
}

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && 'code' in err
}

function titleOf(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    410: 'Gone',
    412: 'Precondition Failed',
    413: 'Content Too Large',
    422: 'Unprocessable Content',
    429: 'Too Many Requests',
    499: 'Client Closed Request',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  }
  return titles[status] ?? 'Error'
}
