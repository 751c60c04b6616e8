import { toJson, type Output } from '../output.js'
import { formatBytes } from './data-progress.js'
import { withStore } from './data-store.js'

/** `strata data stats --data DIR`: series, points, bytes on disk, bytes per point, chunks. */
export async function runStats(data: string, json: boolean, out: Output): Promise<void> {
  const stats = await withStore(data, false, (store) => store.stats())
  if (json) return void out.stdout.write(`${toJson({ data, ...stats })}\n`)
  const rows: [string, string][] = [
    ['series', stats.series.toLocaleString('en')],
    ['points', stats.points.toLocaleString('en')],
    [
      'bytes on disk',
      `${stats.bytesOnDisk.toLocaleString('en')} (${formatBytes(stats.bytesOnDisk)})`,
    ],
    ['bytes/point', stats.bytesPerPoint.toFixed(2)],
    ...Object.entries(stats.detail).map(([k, v]): [string, string] => [k, v.toLocaleString('en')]),
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  out.stdout.write(`${data} (${stats.engine} store)\n`)
  for (const [k, v] of rows) out.stdout.write(`  ${k.padEnd(width)}  ${v}\n`)
}
