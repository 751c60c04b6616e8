import { Option, type Command } from 'commander'
import { exitCodes } from '../output.js'
import { connect, type RemoteFlags } from './api-client.js'
import { emit, fields, group, parseLimit, remoteVerb, table, when } from './api-output.js'
import type { NodeVerbContext } from './api-output.js'
import { parseTimeFlag, resolveTime, type TimeSpec } from './data-time.js'

interface AuditEntry {
  readonly seq: number
  readonly ts: number
  readonly tenantId: string | null
  readonly actor: string
  readonly action: string
  readonly target: string
  readonly outcome: string
  readonly details: Readonly<Record<string, unknown>>
  readonly prevHash: string
  readonly hash: string
}

interface Verification {
  readonly ok: boolean
  readonly entries: number
  readonly headHash?: string
  readonly brokenAt?: number
  readonly problem?: string
}

interface AuditFlags extends RemoteFlags {
  action?: string
  actor?: string
  target?: string
  outcome?: string
  search?: string
  since?: TimeSpec
  until?: TimeSpec
  node?: boolean
  limit?: number
  cursor?: string
  json?: boolean
}

/** Registers `strata admin audit [filters]` and `strata admin audit verify`. */
export function addAudit(admin: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  // A group whose default verb is the search, so that `audit --action …` searches and the
  // options after `audit verify` stay verify's (a parent with options would take them).
  const audit = group(admin, 'audit', 'search the audit log or verify its hash chain', out)
  remoteVerb(ctx, audit, 'list', { isDefault: true })
    .description('search the audit log, newest first (the default of `admin audit`)')
    .option('--action <action>', "only this action, e.g. device.revoke, or a prefix: 'token.*'")
    .option('--actor <actor>', "only this actor, e.g. user:ID, or a prefix: 'token:*'")
    .option('--target <target>', "only this target, or a prefix: 'device:pump-*'")
    .addOption(
      new Option('--outcome <outcome>', 'only this outcome').choices(['ok', 'denied', 'failed']),
    )
    .option('--search <text>', 'text anywhere in the actor, action, target or details, any case')
    .option('--since <time>', 'at or after: ISO, epoch ms, or relative (-1d)', parseTimeFlag)
    .option('--until <time>', 'before: ISO, epoch ms, or relative (-1h)', parseTimeFlag)
    .option('--node', 'node-wide instead of your tenant (platform admins)')
    .option('--limit <n>', 'entries per page (1-1000)', parseLimit, 50)
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .action(async (opts: AuditFlags) => {
      const now = Date.now()
      const page = await (
        await connect(opts)
      ).get<{ items: AuditEntry[]; nextCursor: string | null }>('/api/v1/audit', {
        action: opts.action,
        actor: opts.actor,
        target: opts.target,
        outcome: opts.outcome,
        q: opts.search,
        from: opts.since === undefined ? undefined : resolveTime(opts.since, now),
        to: opts.until === undefined ? undefined : resolveTime(opts.until, now),
        scope: opts.node === true ? 'node' : undefined,
        limit: opts.limit,
        cursor: opts.cursor,
      })
      emit(out, opts.json, page, () => {
        const rows = page.items.map((e) => [
          String(e.seq),
          when(e.ts),
          e.actor,
          e.action,
          e.target,
          e.outcome,
        ])
        const more =
          page.nextCursor === null
            ? ''
            : `older entries: run again with --cursor ${page.nextCursor}\n`
        return (
          table(out, ['seq', 'time', 'actor', 'action', 'target', 'outcome'], rows, 'no entries') +
          more
        )
      })
    })
  remoteVerb(ctx, audit, 'verify')
    .description(
      'recompute the hash chain of the whole log; exit 1 naming the first broken entry when it fails',
    )
    .action(async (opts: RemoteFlags & { json?: boolean }) => {
      const v = await (await connect(opts)).get<Verification>('/api/v1/audit/verify')
      if (!v.ok) ctx.setExit(exitCodes.invalid)
      emit(out, opts.json, v, () =>
        v.ok
          ? `audit chain ok: ${String(v.entries)} entries\n${fields([['head hash', v.headHash ?? '-']])}\n(keep the head hash elsewhere: a rewritten log would change it)`
          : `audit chain BROKEN at entry ${String(v.brokenAt ?? '?')}: ${v.problem ?? 'no reason given'}\n(${String(v.entries)} entries checked; entries from ${String(v.brokenAt ?? '?')} on cannot be trusted)`,
      )
    })
}
