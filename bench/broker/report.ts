// The benchmark's result: figures rounded to sensible precision, ours divided by the peer's, the
// BRIEF §4 JSON line for stdout and a table with the targets for stderr.
import type { Figures } from './context.js'

export interface BrokerResult {
  readonly name: string
  readonly figures: Figures
}

export interface Report {
  readonly bench: 'broker'
  readonly figures: Figures
  readonly peer: { readonly name: string; readonly figures: Figures } | null
  readonly ratio: Figures | null
}

/** Targets from the issue, as ratios ours / Mosquitto in the same run. */
const targets: Readonly<Record<string, { readonly op: '>=' | '<='; readonly value: number }>> = {
  qos0_fanin_msgs_per_cpu_s: { op: '>=', value: 1.0 },
  qos1_fanin_msgs_per_cpu_s: { op: '>=', value: 1.3 },
  latency_4k_p99_ms: { op: '<=', value: 1.0 },
  latency_20k_p99_ms: { op: '<=', value: 1.0 },
  idle_bytes_per_conn: { op: '<=', value: 2.0 },
}

function decimalsFor(name: string): number {
  if (name.endsWith('_ms')) return 3
  if (name.endsWith('_mib') || name.endsWith('_pct')) return 1
  if (name.endsWith('_ratio')) return 4
  return 0
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals
  return Math.round(value * scale) / scale
}

/** Rounds every figure for the report; NaN (not measurable) stays NaN and prints as null. */
export function roundFigures(figures: Figures): Figures {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round(v, decimalsFor(k))]))
}

/** ours / peer for every figure both have; NaN where the peer's is 0 or missing. */
export function ratios(ours: Figures, peer: Figures): Figures {
  const out: Figures = {}
  for (const [name, value] of Object.entries(ours)) {
    const base = peer[name]
    out[name] = base === undefined || base === 0 ? Number.NaN : round(value / base, 3)
  }
  return out
}

export function buildReport(ours: BrokerResult, peer: BrokerResult | null): Report {
  const figures = roundFigures(ours.figures)
  if (peer === null) return { bench: 'broker', figures, peer: null, ratio: null }
  const peerFigures = roundFigures(peer.figures)
  return {
    bench: 'broker',
    figures,
    peer: { name: peer.name, figures: peerFigures },
    ratio: ratios(figures, peerFigures),
  }
}

function cell(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? 'n/a' : String(value)
}

/** A plain-text table of the report, with the targets checked, for stderr. */
export function formatTable(report: Report, oursName: string): string {
  const rows: string[][] = [['figure', oursName, report.peer?.name ?? '-', 'ratio', 'target']]
  for (const [name, value] of Object.entries(report.figures)) {
    const ratio = report.ratio?.[name]
    const target = targets[name]
    let verdict = ''
    if (target !== undefined && ratio !== undefined && !Number.isNaN(ratio)) {
      const met = target.op === '>=' ? ratio >= target.value : ratio <= target.value
      verdict = `${target.op} ${target.value.toFixed(1)}x ${met ? 'met' : 'MISSED'}`
    } else if (target !== undefined) {
      verdict = `${target.op} ${target.value.toFixed(1)}x`
    }
    rows.push([name, cell(value), cell(report.peer?.figures[name]), cell(ratio), verdict])
  }
  const widths =
    rows[0]?.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length))) ?? []
  return rows
    .map((row) =>
      row
        .map((text, col) =>
          col === 0 ? text.padEnd(widths[col] ?? 0) : text.padStart(widths[col] ?? 0),
        )
        .join('  '),
    )
    .join('\n')
}
