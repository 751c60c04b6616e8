import { useState } from 'preact/hooks'
import type { RuleVersion } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { formatJson, formatTime } from '../../components/format.js'
import { useAsync } from '../../components/use-async.js'

/** The rule's versions, newest first; each can be shown, or loaded into the editor. */
export function RuleVersions({
  name,
  current,
  onLoad,
}: {
  readonly name: string
  readonly current: number
  onLoad: (definitionText: string) => void
}) {
  const { api } = useApp()
  const versions = useAsync(
    (signal) =>
      api.get<{ items: RuleVersion[] }>(
        `/api/v1/rules/${encodeURIComponent(name)}/versions`,
        { limit: 50 },
        signal,
      ),
    [name, current],
  )
  const [shown, setShown] = useState<number | undefined>()
  return (
    <section class="card" aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <InlineError error={versions.error} />
      <table class="compact">
        <caption class="sr-only">Versions of {name}</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Change</th>
            <th scope="col">By</th>
            <th scope="col">At</th>
            <th scope="col">Definition</th>
          </tr>
        </thead>
        <tbody>
          {(versions.data?.items ?? []).map((v) => (
            <tr key={v.version}>
              <td>
                v{v.version}
                {v.version === current ? <span class="tag">current</span> : null}
              </td>
              <td>{v.change}</td>
              <td>{v.by}</td>
              <td>{formatTime(v.at)}</td>
              <td>
                <button
                  type="button"
                  aria-expanded={shown === v.version}
                  aria-label={`${shown === v.version ? 'Hide' : 'Show'} version ${String(v.version)}`}
                  onClick={() => setShown(shown === v.version ? undefined : v.version)}
                >
                  {shown === v.version ? 'Hide' : 'Show'}
                </button>{' '}
                <button
                  type="button"
                  aria-label={`Load into editor: version ${String(v.version)}`}
                  onClick={() => onLoad(formatJson(v.definition))}
                >
                  Load into editor
                </button>
                {shown === v.version ? (
                  <pre class="json small" tabIndex={0}>
                    {formatJson(v.definition)}
                  </pre>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
