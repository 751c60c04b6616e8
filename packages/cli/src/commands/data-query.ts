import Table from 'cli-table3'
import type {
  AggregateFunction,
  AggregateGroup,
  Fill,
  SeriesKey,
  SeriesSelector,
  TimeSeriesStore,
  Value,
} from '@strata/tsdb'
import { toJson, type Output } from '../output.js'
import { isTty } from './data-progress.js'
import { withStore } from './data-store.js'

/** The flags of `strata data query`, with times resolved. */
export interface QueryOptions {
  readonly data: string
  readonly selector: SeriesSelector & { readonly metric: string }
  readonly from: number
  readonly to: number
  /** Set for `--latest`: only points before this time (when `--to` was given). */
  readonly latestBefore?: number
  readonly mode: 'raw' | 'aggregate' | 'latest'
  readonly bucketMs?: number
  readonly functions?: readonly AggregateFunction[]
  readonly groupBy?: readonly string[]
  readonly fill?: Fill
  readonly limit: number
  readonly cursor?: string
  readonly json?: boolean
}

/**
 * `strata data query --data DIR --metric M`: one page of raw points, aggregates per time bucket
 * (`--bucket`, `--fn`), or the newest value of each series (`--latest`); a table, or one JSON
 * object with `--json` (int64 values as strings).
 */
export async function runQuery(options: QueryOptions, out: Output): Promise<void> {
  const tty = isTty(out.stdout)
  const text = await withStore(options.data, false, (store) =>
    options.mode === 'latest'
      ? latest(store, options, tty)
      : options.mode === 'aggregate'
        ? aggregate(store, options, tty)
        : raw(store, options, tty),
  )
  out.stdout.write(text)
}

async function latest(
  store: TimeSeriesStore,
  options: QueryOptions,
  tty: boolean,
): Promise<string> {
  const values = await store.latest({
    selector: options.selector,
    ...(options.latestBefore === undefined ? {} : { before: options.latestBefore }),
  })
  if (options.json === true) return `${toJson({ kind: 'latest', values })}\n`
  const rows = values.map((v) => [iso(v.time), ...seriesCells(v.key), cell(v.value)])
  return table(['time', 'device', 'metric', 'tags', 'value'], rows, tty)
}

async function aggregate(
  store: TimeSeriesStore,
  options: QueryOptions,
  tty: boolean,
): Promise<string> {
  const { selector, from, to } = options
  const functions = options.functions ?? ['mean']
  const bucket = options.bucketMs ?? 60_000
  const result = await store.aggregate({
    selector,
    from,
    to,
    bucket,
    functions,
    ...(options.groupBy === undefined ? {} : { groupBy: options.groupBy }),
    ...(options.fill === undefined ? {} : { fill: options.fill }),
  })
  if (options.json === true)
    return `${toJson({ kind: 'aggregate', from, to, bucket, ...result })}\n`
  const rows = result.groups.flatMap((g) =>
    g.times.map((t, i) => [
      iso(t),
      groupLabel(g),
      ...functions.map((fn) => cell(g.values[fn]?.[i])),
    ]),
  )
  return table(['bucket', 'group', ...functions], rows, tty)
}

async function raw(store: TimeSeriesStore, options: QueryOptions, tty: boolean): Promise<string> {
  const { selector, from, to } = options
  const page = await store.read({
    selector,
    from,
    to,
    limit: options.limit,
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  })
  if (options.json === true) return `${toJson({ kind: 'raw', from, to, ...page })}\n`
  const rows = page.series.flatMap((s) =>
    s.times.map((t, i) => [iso(t), ...seriesCells(s.key), cell(s.values[i])]),
  )
  const more = page.cursor === null ? '' : `more points: run again with --cursor ${page.cursor}\n`
  return table(['time', 'device', 'metric', 'tags', 'value'], rows, tty) + more
}

/** A table; colours only on a terminal (cli-table3 colours head and border by default). */
function table(head: string[], rows: string[][], tty: boolean): string {
  if (rows.length === 0) return 'no points match\n'
  const t = new Table({
    head,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: tty ? {} : { head: [], border: [] },
  })
  t.push(...rows)
  return `${t.toString()}\n`
}

function seriesCells(key: Required<SeriesKey>): string[] {
  return [key.device, key.metric, tagText(key.tags)]
}

function groupLabel(group: AggregateGroup): string {
  if (group.series !== undefined) {
    const tags = tagText(group.series.tags)
    return tags === '' ? group.series.device : `${group.series.device} ${tags}`
  }
  const tags = tagText(group.tags)
  return tags === '' ? '(all)' : tags
}

function tagText(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}

function cell(value: Value | null | undefined): string {
  if (value === null || value === undefined) return ''
  return typeof value === 'string' ? value : String(value)
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
