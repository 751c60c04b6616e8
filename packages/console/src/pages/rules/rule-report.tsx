import type { DryRunReport } from '../../api/types.js'
import { formatJson, formatTime } from '../../components/format.js'

/** A dry run's or replay's report: the summary, then one row per evaluation. */
export function RuleReport({ report }: { readonly report: DryRunReport }) {
  const s = report.summary
  const w = report.window
  return (
    <div data-testid="rule-report">
      <p class="report-summary">
        <strong>{s.matched} matched</strong> of {s.messages} messages ({s.selected} selected,{' '}
        {s.errors} errors); health {report.health.status}
        {w === undefined
          ? ''
          : `; window ${formatTime(w.from)} – ${formatTime(w.to)}, ${String(w.messages)} messages${w.truncated ? ' (truncated)' : ''}`}
      </p>
      {report.steps.length === 0 ? (
        <p class="muted">Nothing to evaluate: no messages in the window.</p>
      ) : (
        <div class="table-scroll">
          <table class="compact">
            <caption class="sr-only">Evaluations</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Device</th>
                <th scope="col">At</th>
                <th scope="col">Selected</th>
                <th scope="col">Matched</th>
                <th scope="col">Output</th>
                <th scope="col">Actions</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {report.steps.slice(0, 500).map((step, i) => {
                const r = step.result
                return (
                  <tr key={i} data-matched={String(r.matched)}>
                    <td>{step.source === 'tick' ? 'tick' : String((step.index ?? i) + 1)}</td>
                    <td>{r.deviceId}</td>
                    <td>{formatTime(r.at)}</td>
                    <td>{r.selected ? 'yes' : 'no'}</td>
                    <td>
                      {r.matched ? <span class="badge match-yes">matched</span> : 'no'}
                      {r.missing === undefined ? null : (
                        <span class="muted"> (missing {r.missing})</span>
                      )}
                    </td>
                    <td>
                      {r.output === undefined ? (
                        '—'
                      ) : (
                        <code class="clip" title={formatJson(r.output)}>
                          {JSON.stringify(r.output)}
                        </code>
                      )}
                    </td>
                    <td>
                      {r.actions.length === 0 ? (
                        '—'
                      ) : (
                        <code class="clip" title={formatJson(r.actions)}>
                          {JSON.stringify(r.actions)}
                        </code>
                      )}
                    </td>
                    <td>{r.error === undefined ? '' : `${r.error.code}: ${r.error.message}`}</td>
                  </tr>
                )
              })}
            </tbody>
          </table>
          {report.steps.length > 500 ? (
            <p class="muted">The first 500 of {report.steps.length} evaluations.</p>
          ) : null}
        </div>
      )}
    </div>
  )
}
