import { useState } from 'preact/hooks'
import type { Rule } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { Link, navigate } from '../../app/router.js'
import { ConfirmDialog, runConfirmed } from '../../components/confirm-dialog.js'
import { ApiErrorPage } from '../../components/error-page.js'
import { formatAgo, formatJson, formatNumber, formatTime } from '../../components/format.js'
import { PageHeader } from '../../components/page-header.js'
import { toast } from '../../components/toast.js'
import { useAsync } from '../../components/use-async.js'
import type { ApiError } from '../../errors.js'
import { RuleEditor } from './rule-editor.js'
import { RuleVersions } from './rule-versions.js'
import { RuleHealth } from './rules-page.js'

/**
 * One rule: its health and stats, its definition in the editor (save with `If-Match`, dry run,
 * replay), enable / disable / delete for admins, and its versions.
 */
export function RulePage({ name }: { readonly name: string }) {
  const { api } = useApp()
  const canWrite = useCan('rules:write')
  const loaded = useAsync(
    (signal) => api.get<Rule>(`/api/v1/rules/${encodeURIComponent(name)}`, undefined, signal),
    [name],
  )
  const [fresh, setFresh] = useState<Rule | undefined>()
  /** Remounts the editor with a definition (after a reload, or a version loaded into it). */
  const [seed, setSeed] = useState<{ key: number; text?: string }>({ key: 0 })
  const [deleting, setDeleting] = useState(false)
  const [busy, setBusy] = useState(false)
  const rule = fresh ?? loaded.data
  if (loaded.error !== undefined)
    return <ApiErrorPage error={loaded.error} onRetry={loaded.reload} />
  if (rule === undefined) return <p aria-busy="true">Loading the rule…</p>

  const changed = (r: Rule) => {
    setFresh(r)
    setSeed((s) => ({ key: s.key + 1 }))
  }
  const post = (verb: 'enable' | 'disable') => {
    setBusy(true)
    api
      .post<Rule>(`/api/v1/rules/${encodeURIComponent(rule.name)}/${verb}`)
      .then(
        (r) => {
          toast(`Rule ${r.name} ${r.enabled ? 'enabled' : 'disabled'}`, 'success')
          changed(r)
        },
        (err: unknown) => toast((err as ApiError).message, 'error'),
      )
      .finally(() => setBusy(false))
  }
  const s = rule.stats
  return (
    <>
      <p class="breadcrumb">
        <Link href="/rules">Rules</Link> /
      </p>
      <PageHeader title={`Rule ${rule.name}`}>
        <RuleHealth rule={rule} />
        {canWrite ? (
          <>
            <button
              type="button"
              disabled={busy}
              onClick={() => post(rule.enabled ? 'disable' : 'enable')}
            >
              {rule.enabled ? 'Disable' : 'Enable'}
            </button>
            <button type="button" class="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        ) : null}
      </PageHeader>
      {rule.disabledReason === undefined ? null : (
        <p class="inline-error" role="alert">
          The node disabled this rule at {formatTime(rule.disabledAt)} after repeated failures:{' '}
          {rule.disabledReason}. Fix it (a dry run shows the failure) and enable it again.
        </p>
      )}
      <section class="tiles" aria-label="How the rule runs">
        <div class="tile">
          <h2>Rate</h2>
          <p class="figure">{s === undefined ? '—' : formatNumber(s.ratePerSecond)}</p>
          <p class="muted">evaluations/s, last 60 s</p>
        </div>
        <div class="tile">
          <h2>Latency</h2>
          <p class="figure">{s === undefined ? '—' : `${formatNumber(s.latencyMs.p50)} ms`}</p>
          <p class="muted">
            p50; p99 {s === undefined ? '—' : formatNumber(s.latencyMs.p99)} ms, max{' '}
            {s === undefined ? '—' : formatNumber(s.latencyMs.max)} ms
          </p>
        </div>
        <div class="tile">
          <h2>Matched</h2>
          <p class="figure">{s === undefined ? '—' : formatNumber(s.matched)}</p>
          <p class="muted">
            of {s === undefined ? '—' : formatNumber(s.selected)} selected; last{' '}
            {formatAgo(s?.lastMatchAt)}
          </p>
        </div>
        <div class="tile">
          <h2>Errors</h2>
          <p class="figure">{s === undefined ? '—' : formatNumber(s.errors)}</p>
          <p class="muted">
            actions failed {s === undefined ? '—' : formatNumber(s.actionsFailed)}, dead letters{' '}
            {s === undefined ? '—' : formatNumber(s.deadLetters)}
          </p>
          {s?.lastError === undefined ? null : (
            <p class="help">
              {s.lastError.code}: {s.lastError.message} ({formatAgo(s.lastError.at)})
            </p>
          )}
        </div>
      </section>
      <p class="muted">
        Version {rule.version}, changed {formatTime(rule.updatedAt)} by {rule.updatedBy}; counted
        since the node started.
      </p>
      <RuleEditor
        key={seed.key}
        rule={rule}
        initialText={seed.text ?? formatJson(rule.definition)}
        onSaved={changed}
        onReload={() => {
          setFresh(undefined)
          loaded.reload()
          setSeed((x) => ({ key: x.key + 1 }))
        }}
      />
      <RuleVersions
        name={rule.name}
        current={rule.version}
        onLoad={(text) => setSeed((x) => ({ key: x.key + 1, text }))}
      />
      {deleting ? (
        <ConfirmDialog
          open
          title="Delete this rule?"
          confirmLabel="Delete rule"
          danger
          busy={busy}
          onCancel={() => setDeleting(false)}
          onConfirm={() =>
            runConfirmed(
              setBusy,
              () => setDeleting(false),
              async () => {
                await api.delete(`/api/v1/rules/${encodeURIComponent(rule.name)}`)
                navigate('/rules')
                return `Rule ${rule.name} deleted`
              },
            )
          }
        >
          <p>
            <strong>{rule.name}</strong> stops running now. Its versions and audit entries stay; its
            open alarms stay open until someone clears them.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  )
}
