import { useEffect, useRef, useState } from 'preact/hooks'
import type { SeriesKey } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import { useAsync } from '../../components/use-async.js'
import { presetRanges, type TimeRange } from './bucket.js'
import { TelemetryChart } from './telemetry-chart.js'

const maxCharts = 8

/**
 * The device's metrics as charts over one shared time range: a preset that follows now (live), or
 * a window the user zoomed into (drag on a chart) and pans with the buttons.
 */
export function TelemetryPanel({ deviceId }: { readonly deviceId: string }) {
  const { api, live: feed } = useApp()
  const [spanMs, setSpanMs] = useState(3_600_000)
  const [fixed, setFixed] = useState<TimeRange | undefined>()
  const [now, setNow] = useState(() => Date.now())
  const series = useAsync(
    (signal) =>
      api.get<{ items: { key: SeriesKey; type: string }[] }>(
        '/api/v1/telemetry/series',
        { device: deviceId },
        signal,
      ),
    [deviceId, now],
  )
  const live = fixed === undefined
  const known = useRef<ReadonlySet<string>>(new Set())
  known.current = new Set((series.data?.items ?? []).map((s) => s.key.metric))
  // A metric the device sends for the first time gets its chart.
  useEffect(
    () =>
      feed.subscribe({ topics: ['telemetry'], devices: [deviceId] }, (event) => {
        if (event.type === 'telemetry' && event.points.some((p) => !known.current.has(p.metric))) {
          known.current = new Set([...known.current, ...event.points.map((p) => p.metric)])
          setNow(Date.now())
        }
      }),
    [feed, deviceId],
  )
  const range: TimeRange = fixed ?? { from: now - spanMs, to: now + 60_000 }
  const metrics = [
    ...new Set(
      (series.data?.items ?? []).filter((s) => s.type !== 'string').map((s) => s.key.metric),
    ),
  ]
  const shift = (fraction: number) => {
    const d = (range.to - range.from) * fraction
    setFixed({ from: Math.round(range.from + d), to: Math.round(range.to + d) })
  }
  const zoomOut = () => {
    const mid = (range.from + range.to) / 2
    const half = range.to - range.from
    setFixed({ from: Math.round(mid - half), to: Math.round(mid + half) })
  }
  return (
    <section class="card" aria-labelledby="telemetry-title">
      <div class="section-head">
        <h2 id="telemetry-title">Telemetry</h2>
        <div class="toolbar" role="toolbar" aria-label="Time range">
          {presetRanges.map((p) => (
            <button
              key={p.label}
              type="button"
              aria-pressed={live && spanMs === p.ms}
              onClick={() => {
                setSpanMs(p.ms)
                setFixed(undefined)
                setNow(Date.now())
              }}
            >
              {p.label}
            </button>
          ))}
          <button type="button" aria-label="Pan back" onClick={() => shift(-0.5)}>
            ◀
          </button>
          <button type="button" aria-label="Pan forward" onClick={() => shift(0.5)}>
            ▶
          </button>
          <button type="button" onClick={zoomOut}>
            Zoom out
          </button>
          {live ? null : (
            <button
              type="button"
              class="primary"
              onClick={() => {
                setFixed(undefined)
                setNow(Date.now())
              }}
            >
              Back to live
            </button>
          )}
        </div>
      </div>
      <InlineError error={series.error} />
      {series.data !== undefined && metrics.length === 0 ? (
        <p class="muted" data-testid="no-telemetry">
          No telemetry yet. Charts appear when the device sends its first points
          <button type="button" class="link" onClick={() => setNow(Date.now())}>
            (check again)
          </button>
          .
        </p>
      ) : null}
      <div class="charts">
        {metrics.slice(0, maxCharts).map((m) => (
          <TelemetryChart
            key={m}
            deviceId={deviceId}
            metric={m}
            range={range}
            live={live}
            onZoom={setFixed}
          />
        ))}
      </div>
      <p class="muted">
        Drag across a chart to zoom in; the node sends aggregates sized to the range.
      </p>
    </section>
  )
}
