/**
 * A field value of InfluxDB line protocol, tagged with its wire type so that `1`, `1i` and `1u`
 * stay distinct (InfluxDB types a field by the first value it sees).
 */
export type LineFieldValue =
  | { readonly type: 'float'; readonly value: number }
  /** int64, written with an `i` suffix. */
  | { readonly type: 'integer'; readonly value: bigint }
  /** uint64, written with a `u` suffix. */
  | { readonly type: 'unsigned'; readonly value: bigint }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'boolean'; readonly value: boolean }

/** One line of line protocol: a point, with every name unescaped. */
export interface LinePoint {
  readonly measurement: string
  /** Tag key/value pairs in input order; keys are unique and values are never empty. */
  readonly tags: ReadonlyArray<readonly [string, string]>
  /** Field key/value pairs in input order; at least one, keys unique. */
  readonly fields: ReadonlyArray<readonly [string, LineFieldValue]>
  /** In the unit of the writer's precision, as written; absent when the line has none. */
  readonly timestamp?: bigint
}

/** The unit of a line's timestamp; InfluxDB's default is `ns`. */
export type LinePrecision = 'ns' | 'us' | 'ms' | 's'

/** Limits {@link parseLineProtocol} enforces; exceeding one is a `PROTOCOL_TOO_LARGE` error. */
export interface LineParseOptions {
  /** Largest input accepted, in UTF-8 bytes, checked before parsing. */
  readonly maxBytes?: number
  /** Most points (not physical lines: comments and blank lines are free) in one input. */
  readonly maxLines?: number
  /** Longest measurement, tag key, tag value or field key, in UTF-8 bytes after unescaping. */
  readonly maxNameBytes?: number
  /** Longest string field value in UTF-8 bytes after unescaping; InfluxDB's own limit is 64 KiB. */
  readonly maxStringBytes?: number
}

/** The limits used for any option left out: 1 MiB, 10,000 points, 256-byte names, 64 KiB strings. */
export const defaultLineParseOptions: Required<LineParseOptions> = {
  maxBytes: 1_048_576,
  maxLines: 10_000,
  maxNameBytes: 256,
  maxStringBytes: 65_536,
}
