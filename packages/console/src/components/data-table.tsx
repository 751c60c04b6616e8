import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import type { Page } from '../api/types.js'
import { InlineError } from './error-page.js'
import { useAsync } from './use-async.js'

export interface Column<T> {
  readonly key: string
  readonly label: string
  render: (row: T) => ComponentChildren
  /** Makes the column sortable (within the page shown: the node pages in its own order). */
  sortValue?: (row: T) => string | number
  /**
   * Makes the column sortable on the node, across every page: the list's `sort` value for it
   * (`name`; descending adds a `-`). Takes precedence over {@link sortValue}.
   */
  readonly serverSort?: string
}

export interface DataTableProps<T> {
  readonly caption: string
  readonly columns: readonly Column<T>[]
  /** One page from the node; `cursor` is the previous page's `nextCursor`. */
  fetchPage: (
    cursor: string | undefined,
    signal: AbortSignal,
    /** The server-side sort chosen (`name`, `-createdAt`), when a column with `serverSort` is. */
    sort: string | undefined,
  ) => Promise<Page<T>>
  /** When any of these change (a filter, a search), paging starts again at the first page. */
  readonly resetOn: readonly unknown[]
  rowKey: (row: T) => string
  readonly empty: string
  /** Changes when the caller wants the current page fetched again. */
  readonly reloadKey?: number
}

/**
 * A table over a server-paged list: one page in the browser at a time (a 100,000-device fleet is
 * never loaded whole), next/previous by cursor; sorting on the node across every page for
 * columns with `serverSort`, else of the page shown.
 */
export function DataTable<T>(props: DataTableProps<T>) {
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined])
  const [sort, setSort] = useState<{ key: string; dir: 1 | -1 } | undefined>(undefined)
  const sortColumn = props.columns.find((c) => c.key === sort?.key)
  const serverSort =
    sort === undefined || sortColumn?.serverSort === undefined
      ? undefined
      : `${sort.dir === 1 ? '' : '-'}${sortColumn.serverSort}`
  useEffect(() => setCursors([undefined]), [...props.resetOn, serverSort])
  const cursor = cursors[cursors.length - 1]
  const page = useAsync(
    (signal) => props.fetchPage(cursor, signal, serverSort),
    [cursor, props.reloadKey, serverSort, ...props.resetOn],
  )
  const rows = [...(page.data?.items ?? [])]
  if (sort !== undefined && serverSort === undefined && sortColumn?.sortValue !== undefined) {
    const value = sortColumn.sortValue
    rows.sort((a, b) => {
      const x = value(a)
      const y = value(b)
      return (x < y ? -1 : x > y ? 1 : 0) * sort.dir
    })
  }
  const next = page.data?.nextCursor ?? null
  return (
    <div class="data-table" aria-busy={page.loading}>
      <InlineError error={page.error} />
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th
                key={c.key}
                scope="col"
                aria-sort={
                  sort?.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : undefined
                }
              >
                {c.sortValue === undefined && c.serverSort === undefined ? (
                  c.label
                ) : (
                  <button
                    type="button"
                    class="sort"
                    title={c.serverSort === undefined ? 'Sort this page' : 'Sort every page'}
                    onClick={() =>
                      setSort(
                        sort?.key === c.key
                          ? { key: c.key, dir: sort.dir === 1 ? -1 : 1 }
                          : { key: c.key, dir: 1 },
                      )
                    }
                  >
                    {c.label}
                    <span aria-hidden="true">
                      {sort?.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ' ↕'}
                    </span>
                  </button>
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={props.rowKey(row)}>
              {props.columns.map((c) => (
                <td key={c.key}>{c.render(row)}</td>
              ))}
            </tr>
          ))}
          {!page.loading && rows.length === 0 && page.error === undefined ? (
            <tr>
              <td colSpan={props.columns.length} class="muted">
                {props.empty}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <nav class="pager" aria-label={`${props.caption}: pages`}>
        <button
          type="button"
          disabled={cursors.length <= 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Previous
        </button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          disabled={next === null}
          onClick={() => setCursors([...cursors, next ?? undefined])}
        >
          Next
        </button>
      </nav>
    </div>
  )
}
