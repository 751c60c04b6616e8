// The fleet benchmark's result: figures rounded, ours divided by the peer's, the BRIEF §4 JSON
// line and a table with the issue's target on stderr.
import { createRequire } from 'node:module'
import type { SideFigures } from './side.js'

type Figures = Record<string, number>

export interface FleetReport {
  readonly bench: 'fleet'
  readonly figures: Figures | null
  readonly peer: { readonly name: string; readonly figures: Figures } | null
  readonly ratio: Figures | null
  readonly shape: Record<string, number>
}

/** The target: memory per simulated device at most a bare MQTT.js client's. */
const targets: Readonly<Record<string, number>> = {
  rss_per_device_kib: 1.0,
  heap_per_device_kib: 1.0,
}

const decimals: Readonly<Record<string, number>> = {
  rss_per_device_kib: 2,
  heap_per_device_kib: 2,
  delivered_share: 4,
  connect_s: 2,
  rss_mib: 1,
}

function rounded(f: SideFigures): Figures {
  return Object.fromEntries(
    Object.entries(f).map(([k, v]) => {
      const scale = 10 ** (decimals[k] ?? 0)
      return [k, Math.round(v * scale) / scale]
    }),
  )
}

function mqttJsVersion(): string {
  const require = createRequire(import.meta.url)
  const pkg = require('mqtt/package.json') as { version?: string }
  return `mqtt.js ${pkg.version ?? 'unknown'}`
}

export function buildReport(
  ours: SideFigures | null,
  peer: SideFigures | null,
  shape: Record<string, number>,
): FleetReport {
  const o = ours === null ? null : rounded(ours)
  const p = peer === null ? null : rounded(peer)
  let ratio: Figures | null = null
  if (o !== null && p !== null) {
    ratio = {}
    for (const [k, v] of Object.entries(o)) {
      const base = p[k]
      ratio[k] =
        base === undefined || base === 0 ? Number.NaN : Math.round((v / base) * 1000) / 1000
    }
  }
  return {
    bench: 'fleet',
    figures: o,
    peer: p === null ? null : { name: mqttJsVersion(), figures: p },
    ratio,
    shape,
  }
}

export function formatTable(report: FleetReport): string {
  const names = Object.keys(report.figures ?? report.peer?.figures ?? {})
  const rows = [['figure', 'ours', report.peer?.name ?? '-', 'ratio', 'target']]
  for (const name of names) {
    const r = report.ratio?.[name]
    const target = targets[name]
    const verdict =
      target === undefined
        ? ''
        : `<= ${target.toFixed(1)}x ${r !== undefined && r <= target ? 'met' : r === undefined ? '' : 'MISSED'}`
    rows.push([
      name,
      String(report.figures?.[name] ?? '-'),
      String(report.peer?.figures[name] ?? '-'),
      r === undefined || Number.isNaN(r) ? 'n/a' : String(r),
      verdict.trim(),
    ])
  }
  const widths = (rows[0] ?? []).map((_, i) =>
    Math.max(...rows.map((row) => (row[i] ?? '').length)),
  )
  return `${rows.map((row) => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n')}\n`
}
