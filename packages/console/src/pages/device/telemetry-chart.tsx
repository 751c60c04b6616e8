import { useEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { AggregateGroup } from '../../api/types.js'
import { useApp } from '../../app/app-context.js'
import { InlineError } from '../../components/error-page.js'
import type { ApiError } from '../../errors.js'
import { bucketFor, type TimeRange } from './bucket.js'

export interface TelemetryChartProps {
  readonly deviceId: string
  readonly metric: string
  readonly range: TimeRange
  /** Following now: new points from the live feed are appended. */
  readonly live: boolean
  onZoom: (range: TimeRange) => void
}

type Columns = [number[], (number | null)[], (number | null)[], (number | null)[]]

const numberOf = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : null

/**
 * One metric of one device: mean with a min–max band, from the node's bucketed aggregates for the
 * visible range (bucket chosen from the range and the chart's width), zoomed by dragging, and
 * extended by live points while it follows now. `data-point-count` says how many points it drew.
 */
export function TelemetryChart({ deviceId, metric, range, live, onZoom }: TelemetryChartProps) {
  const { api, live: feed } = useApp()
  const host = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | undefined>(undefined)
  const data = useRef<Columns>([[], [], [], []])
  const zoom = useRef(onZoom)
  zoom.current = onZoom
  const [count, setCount] = useState(0)
  const [bucketMs, setBucketMs] = useState(0)
  const [error, setError] = useState<ApiError | undefined>()

  // The chart, made once and resized with its box.
  useEffect(() => {
    const el = host.current
    if (el === null) return
    const u = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: 220,
        series: [
          {},
          {
            label: `${metric} (mean)`,
            stroke: '#1f4e8c',
            width: 1.5,
            points: { show: true, size: 4 },
          },
          { label: 'min', stroke: '#7a9cc6', width: 1, dash: [4, 4] },
          { label: 'max', stroke: '#7a9cc6', width: 1, dash: [4, 4] },
        ],
        axes: [{}, { size: 60 }],
        cursor: { drag: { x: true, y: false, setScale: false } },
        hooks: {
          setSelect: [
            (self) => {
              const { left, width } = self.select
              if (width < 5) return
              const from = Math.round(self.posToVal(left, 'x') * 1000)
              const to = Math.round(self.posToVal(left + width, 'x') * 1000)
              self.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
              if (to - from >= 1000) zoom.current({ from, to })
            },
          ],
        },
      },
      data.current,
      el,
    )
    plot.current = u
    const resize = new ResizeObserver(() =>
      u.setSize({ width: Math.max(300, el.clientWidth), height: 220 }),
    )
    resize.observe(el)
    return () => {
      resize.disconnect()
      u.destroy()
      plot.current = undefined
    }
  }, [metric])

  // The aggregates of the visible range.
  useEffect(() => {
    const controller = new AbortController()
    const width = host.current?.clientWidth ?? 800
    const bucket = bucketFor(range.to - range.from, width)
    setBucketMs(bucket)
    api
      .get<{ groups: AggregateGroup[] }>(
        '/api/v1/telemetry/aggregate',
        {
          device: deviceId,
          metric,
          from: range.from,
          to: range.to,
          bucket: `${bucket}ms`,
          fn: 'mean,min,max',
          groupBy: '',
        },
        controller.signal,
      )
      .then(
        (r) => {
          const g = r.groups[0]
          const next: Columns = [[], [], [], []]
          if (g !== undefined) {
            g.times.forEach((t, i) => {
              next[0].push(t / 1000)
              next[1].push(numberOf(g.values['mean']?.[i]))
              next[2].push(numberOf(g.values['min']?.[i]))
              next[3].push(numberOf(g.values['max']?.[i]))
            })
          }
          data.current = next
          setError(undefined)
          draw(plot.current, next, range)
          setCount(next[0].length)
        },
        (err: unknown) => {
          if (!controller.signal.aborted) setError(err as ApiError)
        },
      )
    return () => controller.abort()
  }, [deviceId, metric, range.from, range.to])

  // Live points, appended while the chart follows now.
  useEffect(() => {
    if (!live) return
    return feed.subscribe(
      { topics: ['telemetry'], devices: [deviceId], metrics: [metric] },
      (event) => {
        if (event.type !== 'telemetry') return
        const d = data.current
        for (const p of event.points) {
          const v = numberOf(p.value)
          if (p.metric !== metric || v === null) continue
          const t = p.ts / 1000
          // Keep times ascending (uPlot needs it): a late point goes where it belongs.
          let i = d[0].length
          while (i > 0 && (d[0][i - 1] ?? 0) > t) i--
          d[0].splice(i, 0, t)
          d[1].splice(i, 0, v)
          d[2].splice(i, 0, v)
          d[3].splice(i, 0, v)
        }
        draw(plot.current, d, { from: range.from, to: Math.max(range.to, Date.now()) })
        setCount(d[0].length)
      },
    )
  }, [live, deviceId, metric, range.from, range.to])

  return (
    <figure class="chart" data-metric={metric} data-point-count={count} data-bucket-ms={bucketMs}>
      <figcaption>
        <strong>{metric}</strong>{' '}
        <span class="muted">
          {count} points, {bucketMs >= 1000 ? `${bucketMs / 1000} s` : `${bucketMs} ms`} buckets
          {live ? ', live' : ''}
        </span>
      </figcaption>
      <InlineError error={error} />
      <div
        ref={host}
        class="chart-canvas"
        role="img"
        aria-label={`Chart of ${metric}: ${count} points. Drag to zoom.`}
      />
    </figure>
  )
}

function draw(u: uPlot | undefined, d: Columns, range: TimeRange): void {
  if (u === undefined) return
  u.batch(() => {
    u.setData(d)
    u.setScale('x', { min: range.from / 1000, max: range.to / 1000 })
  })
}
