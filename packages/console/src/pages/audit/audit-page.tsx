import { useState } from 'preact/hooks'
import type { AuditEntry, AuditOutcome, AuditVerification, Page } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { DataTable, type Column } from '../../components/data-table.js'
import { InlineError } from '../../components/error-page.js'
import { formatTime } from '../../components/format.js'
import { PageHeader } from '../../components/page-header.js'
import { useAsync } from '../../components/use-async.js'

const pageSize = 100
const outcomes: readonly AuditOutcome[] = ['ok', 'denied', 'failed']

interface AuditFilters {
  readonly q: string
  readonly actor: string
  readonly action: string
  readonly target: string
  readonly outcome: AuditOutcome | ''
  /** `datetime-local` values, in the browser's time zone; empty for no bound. */
  readonly from: string
  readonly to: string
}
type TextFilter = 'q' | 'actor' | 'action' | 'target'
const noFilters: AuditFilters = {
  q: '',
  actor: '',
  action: '',
  target: '',
  outcome: '',
  from: '',
  to: '',
}

/** The query of the audit API for the applied filters: empty ones left out. */
function auditQuery(f: AuditFilters): Record<string, string | undefined> {
  const text = (v: string) => (v.trim() === '' ? undefined : v.trim())
  const time = (v: string) => (v === '' ? undefined : new Date(v).toISOString())
  return {
    q: text(f.q),
    actor: text(f.actor),
    action: text(f.action),
    target: text(f.target),
    outcome: f.outcome === '' ? undefined : f.outcome,
    from: time(f.from),
    to: time(f.to),
  }
}

const auditColumns: readonly Column<AuditEntry>[] = [
  { key: 'seq', label: '#', sortValue: (e) => e.seq, render: (e) => e.seq },
  { key: 'ts', label: 'Time', sortValue: (e) => e.ts, render: (e) => formatTime(e.ts) },
  {
    key: 'actor',
    label: 'Actor',
    sortValue: (e) => e.actor,
    render: (e) => <code>{e.actor}</code>,
  },
  { key: 'action', label: 'Action', sortValue: (e) => e.action, render: (e) => e.action },
  {
    key: 'target',
    label: 'Target',
    sortValue: (e) => e.target,
    render: (e) => <code>{e.target}</code>,
  },
  {
    key: 'outcome',
    label: 'Outcome',
    sortValue: (e) => e.outcome,
    render: (e) => <span class={`badge outcome-${e.outcome}`}>{e.outcome}</span>,
  },
  {
    key: 'details',
    label: 'Details',
    render: (e) =>
      Object.keys(e.details).length === 0 ? (
        ''
      ) : (
        <code class="clip" title={JSON.stringify(e.details, null, 2)}>
          {JSON.stringify(e.details)}
        </code>
      ),
  },
]

/** The result of recomputing the hash chain, shown first: verified, or where it breaks. */
function ChainStatus() {
  const { api } = useApp()
  const verify = useAsync(
    (signal) => api.get<AuditVerification>('/api/v1/audit/verify', undefined, signal),
    [],
  )
  const v = verify.data
  return (
    <section
      class={`chain ${v === undefined ? '' : v.ok ? 'chain-ok' : 'chain-broken'}`}
      aria-labelledby="chain-title"
      data-testid="audit-chain"
    >
      <h2 id="chain-title">
        {v === undefined
          ? 'Verifying the chain…'
          : v.ok
            ? 'Chain verified'
            : `Chain broken at entry ${String(v.brokenAt ?? '?')}`}
      </h2>
      <InlineError error={verify.error} />
      {v === undefined ? null : v.ok ? (
        <p>
          All {v.entries} entries of the node's log link by their SHA-256 hashes. Head hash{' '}
          <code class="hash">{v.headHash ?? '—'}</code>: keep it elsewhere to detect a rewrite of
          the whole log later.
        </p>
      ) : (
        <p role="alert">
          {v.problem ?? 'An entry does not match its hash.'} {v.entries} entries before it verify.
          The log was changed outside Strata: restore the data folder from a backup and find out who
          had access to it.
        </p>
      )}
      <button type="button" onClick={verify.reload} disabled={verify.loading}>
        Verify again
      </button>
    </section>
  )
}

/**
 * The audit log of the tenant, newest first, a page at a time, searched by text anywhere, by
 * actor, action and target (exact, or a prefix ending in `*`), outcome and time range, under the
 * chain's verification.
 */
export function AuditPage() {
  const { api } = useApp()
  const [draft, setDraft] = useState<AuditFilters>(noFilters)
  const [applied, setApplied] = useState<AuditFilters>(noFilters)
  const field = (key: TextFilter, label: string, placeholder: string) => (
    <label class={key === 'target' || key === 'q' ? 'grow' : ''}>
      {label}
      <input
        value={draft[key]}
        placeholder={placeholder}
        spellcheck={false}
        onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })}
      />
    </label>
  )
  const timeField = (key: 'from' | 'to', label: string) => (
    <label>
      {label}
      <input
        type="datetime-local"
        value={draft[key]}
        onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })}
      />
    </label>
  )
  return (
    <>
      <PageHeader title="Audit log" />
      <ChainStatus />
      <form
        class="filters"
        role="search"
        aria-label="Search the audit log"
        onSubmit={(e) => {
          e.preventDefault()
          setApplied(draft)
        }}
      >
        {field('q', 'Text', 'anywhere in an entry: pump-7, stolen')}
        {field('actor', 'Actor', 'user:…, token:*, device:…')}
        {field('action', 'Action', 'rule.update, token.*')}
        {field('target', 'Target', 'device:pump-7, rule:*')}
        <label>
          Outcome
          <select
            value={draft.outcome}
            onChange={(e) =>
              setDraft({ ...draft, outcome: e.currentTarget.value as AuditOutcome | '' })
            }
          >
            <option value="">any</option>
            {outcomes.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
        {timeField('from', 'From')}
        {timeField('to', 'Until')}
        <button type="submit">Search</button>
      </form>
      <DataTable<AuditEntry>
        caption="Audit entries"
        columns={auditColumns}
        rowKey={(e) => String(e.seq)}
        empty="No entries match."
        resetOn={Object.values(applied)}
        fetchPage={(cursor, signal) =>
          api.get<Page<AuditEntry>>(
            '/api/v1/audit',
            { ...auditQuery(applied), limit: pageSize, cursor },
            signal,
          )
        }
      />
    </>
  )
}
