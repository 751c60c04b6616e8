import { InvalidArgumentError, type Command } from 'commander'
import { connect, pathOf, type RemoteFlags } from './api-client.js'
import {
  collectLabel,
  emit,
  group,
  labelText,
  remoteVerb,
  table,
  when,
  type NodeVerbContext,
} from './api-output.js'
import { intOption } from './int-option.js'

interface Claim {
  readonly id: string
  readonly tenantId: string
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly maxUses: number
  readonly uses: number
  readonly createdAt: number
  readonly expiresAt: number
  readonly revokedAt: number | null
}

type Flags = RemoteFlags & { json?: boolean }

const parseMaxUses = intOption(1, 1_000_000, 'expected a whole number from 1 to 1000000')

function parseHours(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 2160)
    throw new InvalidArgumentError('expected hours, more than 0 and at most 2160 (90 days)')
  return n
}

/** Registers `strata claims create|list|revoke`: claim tokens devices provision themselves with. */
export function addClaims(program: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  const claims = group(
    program,
    'claims',
    'claim tokens: a batch of devices provisions itself with one (certificate from a CSR)',
    out,
  )
  remoteVerb(ctx, claims, 'create')
    .description('create a claim token; its secret is shown once')
    .requiredOption('--name <name>', 'what it is for, e.g. the batch')
    .option('--max-uses <n>', 'how many devices may use it (default: the node’s)', parseMaxUses)
    .option('--expires-in-hours <h>', 'expire after H hours (default: the node’s)', parseHours)
    .option('--label <k=v>', 'a label every device it provisions gets (repeatable)', collectLabel)
    .action(
      async (
        opts: Flags & {
          name: string
          maxUses?: number
          expiresInHours?: number
          label?: Record<string, string>
        },
      ) => {
        const client = await connect(opts)
        const created = await client.post<{ token: string; claim: Claim }>('/api/v1/claims', {
          name: opts.name,
          ...(opts.maxUses === undefined ? {} : { maxUses: opts.maxUses }),
          ...(opts.expiresInHours === undefined ? {} : { expiresInHours: opts.expiresInHours }),
          ...(opts.label === undefined ? {} : { labels: opts.label }),
        })
        const c = created.claim
        emit(out, opts.json, created, () =>
          [
            `created claim ${c.id} (${c.name}): up to ${String(c.maxUses)} device${c.maxUses === 1 ? '' : 's'} until ${when(c.expiresAt)}`,
            'its secret, shown only now:',
            `  ${created.token}`,
            `devices provision with it: POST ${client.url}/api/v1/provisioning/DEVICE_ID (Authorization: Bearer <token>, body {"csr": PEM})`,
          ].join('\n'),
        )
      },
    )
  remoteVerb(ctx, claims, 'list')
    .description('list claim tokens (never their secrets)')
    .action(async (opts: Flags) => {
      const { items } = await (await connect(opts)).get<{ items: Claim[] }>('/api/v1/claims')
      emit(out, opts.json, { items }, () =>
        table(
          out,
          ['id', 'name', 'uses', 'expires', 'revoked', 'labels'],
          items.map((c) => [
            c.id,
            c.name,
            `${String(c.uses)}/${String(c.maxUses)}`,
            when(c.expiresAt),
            when(c.revokedAt),
            labelText(c.labels),
          ]),
          'no claim tokens',
        ),
      )
    })
  remoteVerb(ctx, claims, 'revoke')
    .description('revoke a claim token; devices already provisioned keep their certificates')
    .argument('<id>', 'the claim id (see `claims list`)')
    .action(async (id: string, opts: Flags) => {
      const c = await (await connect(opts)).delete<Claim>(pathOf`/api/v1/claims/${id}`)
      emit(out, opts.json, c, () => `revoked claim ${c.id} (${c.name})`)
    })
}
