import { useState } from 'preact/hooks'
import type { Rule } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { Link, navigate } from '../../app/router.js'
import { InlineError } from '../../components/error-page.js'
import { formatAgo, formatNumber } from '../../components/format.js'
import { PageHeader } from '../../components/page-header.js'
import { useAsync } from '../../components/use-async.js'
import { RuleEditor } from './rule-editor.js'
import { newRuleTemplate } from './rule-text.js'

export const ruleHref = (name: string) => `/rules/${encodeURIComponent(name)}`

/** "ok", "failing" or "disabled": the engine's health, or the rule's own switch before it runs. */
export function RuleHealth({ rule }: { readonly rule: Rule }) {
  const health = rule.enabled ? (rule.stats?.health ?? 'ok') : 'disabled'
  return (
    <span class={`badge health-${health}`} data-testid="rule-health">
      {health}
    </span>
  )
}

/**
 * Every rule of the tenant (a tenant holds at most 1,000) with how it runs: health, evaluations per
 * second, latency, matches and errors since the node started. Admins create rules here.
 */
export function RulesPage() {
  const { api } = useApp()
  const canWrite = useCan('rules:write')
  const rules = useAsync(
    (signal) => api.get<{ items: Rule[] }>('/api/v1/rules', undefined, signal),
    [],
  )
  const [creating, setCreating] = useState(false)
  const items = rules.data?.items ?? []
  return (
    <>
      <PageHeader title="Rules">
        {canWrite && !creating ? (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New rule
          </button>
        ) : null}
      </PageHeader>
      {creating ? (
        <RuleEditor
          initialText={newRuleTemplate}
          onSaved={(r) => navigate(ruleHref(r.name))}
          onCancel={() => setCreating(false)}
        />
      ) : null}
      <InlineError error={rules.error} />
      <div class="data-table">
        <table>
          <caption class="sr-only">Rules</caption>
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Health</th>
              <th scope="col">Rate</th>
              <th scope="col">Latency p50 / p99</th>
              <th scope="col">Matched / evaluated</th>
              <th scope="col">Errors</th>
              <th scope="col">Last match</th>
              <th scope="col">Version</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => {
              const s = r.stats
              return (
                <tr key={r.name}>
                  <td>
                    <Link href={ruleHref(r.name)}>{r.name}</Link>
                    {typeof r.definition['description'] === 'string' ? (
                      <span class="help">{r.definition['description']}</span>
                    ) : null}
                  </td>
                  <td>
                    <RuleHealth rule={r} />
                    {r.disabledReason === undefined ? null : (
                      <span class="help">{r.disabledReason}</span>
                    )}
                  </td>
                  <td>{s === undefined ? '—' : `${formatNumber(s.ratePerSecond)}/s`}</td>
                  <td>
                    {s === undefined
                      ? '—'
                      : `${formatNumber(s.latencyMs.p50)} / ${formatNumber(s.latencyMs.p99)} ms`}
                  </td>
                  <td>
                    {s === undefined
                      ? '—'
                      : `${formatNumber(s.matched)} / ${formatNumber(s.evaluations)}`}
                  </td>
                  <td>
                    {s === undefined ? '—' : formatNumber(s.errors)}
                    {s?.lastError === undefined ? null : (
                      <span class="help clip" title={s.lastError.message}>
                        {s.lastError.code}: {s.lastError.message}
                      </span>
                    )}
                  </td>
                  <td>{formatAgo(s?.lastMatchAt)}</td>
                  <td>v{r.version}</td>
                </tr>
              )
            })}
            {!rules.loading && items.length === 0 && rules.error === undefined ? (
              <tr>
                <td colSpan={8} class="muted">
                  No rules yet.{canWrite ? ' "New rule" starts from an example.' : ''}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </>
  )
}
