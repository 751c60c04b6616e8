import { TsdbError } from '../errors.js'

/**
 * A series: one metric of one device of one tenant, with a small set of tags (for example
 * `{ unit: 'C', sensor: 'inlet' }`). Two keys with the same fields and tags are the same series,
 * whatever order the tags were given in.
 */
export interface SeriesKey {
  readonly tenant: string
  readonly device: string
  readonly metric: string
  readonly tags?: Readonly<Record<string, string>>
}

/** The limits every series key is checked against, the same for both engines. */
export const seriesLimits = {
  /** Bytes (UTF-8) of a tenant id, device id, metric name or tag name. */
  maxNameBytes: 128,
  /** Bytes (UTF-8) of one tag value. */
  maxTagValueBytes: 256,
  /** Tags on one series. */
  maxTags: 32,
} as const

function checkName(value: unknown, field: string, maxBytes: number): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TsdbError('TSDB_SERIES_INVALID', `series ${field} must be a non-empty string`, {
      details: { field },
    })
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long names need counting.
  if (
    value.length > maxBytes ||
    (value.length * 3 > maxBytes && Buffer.byteLength(value) > maxBytes)
  ) {
    throw new TsdbError(
      'TSDB_SERIES_INVALID',
      `series ${field} is longer than ${String(maxBytes)} bytes`,
      { details: { field, limit: maxBytes } },
    )
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new TsdbError('TSDB_SERIES_INVALID', `series ${field} contains a control character`, {
      details: { field },
    })
  }
  return value
}

/**
 * Checks a series key against {@link seriesLimits} and returns it with its tags sorted by name,
 * so that equal series compare equal. Throws `TSDB_SERIES_INVALID` naming the field.
 */
export function normalizeSeriesKey(key: SeriesKey): Required<SeriesKey> {
  // Callers pass decoded JSON too: check the shape the type promises.
  if (typeof key !== 'object' || (key as SeriesKey | null) === null) {
    throw new TsdbError('TSDB_SERIES_INVALID', 'a series key must be an object')
  }
  const tenant = checkName(key.tenant, 'tenant', seriesLimits.maxNameBytes)
  const device = checkName(key.device, 'device', seriesLimits.maxNameBytes)
  const metric = checkName(key.metric, 'metric', seriesLimits.maxNameBytes)
  const raw = key.tags ?? {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new TsdbError('TSDB_SERIES_INVALID', 'series tags must be an object of strings')
  }
  // Count before sorting: a key with a million tags is refused without sorting a million names.
  let count = 0
  for (const _ in raw) {
    if (++count > seriesLimits.maxTags) {
      throw new TsdbError(
        'TSDB_SERIES_INVALID',
        `a series has at most ${String(seriesLimits.maxTags)} tags`,
        {
          details: { field: 'tags', limit: seriesLimits.maxTags },
          hint: 'Keep tags for the few dimensions you filter and group by; put the rest in device attributes.',
        },
      )
    }
  }
  const tags: Record<string, string> = {}
  for (const name of Object.keys(raw).sort()) {
    checkName(name, 'tag name', seriesLimits.maxNameBytes)
    if (name.includes('=')) {
      throw new TsdbError('TSDB_SERIES_INVALID', `tag name ${name} contains '='`, {
        details: { field: 'tags' },
      })
    }
    tags[name] = checkName(raw[name], `tag ${name}`, seriesLimits.maxTagValueBytes)
  }
  return { tenant, device, metric, tags }
}

/**
 * The canonical text of a normalised series key: one string per series, usable as a map key, a
 * unique database column and the order in which both engines return series. Fields are joined
 * by U+001F, which no field may contain.
 */
export function canonicalSeriesKey(key: Required<SeriesKey>): string {
  let id = `${key.tenant}\u001f${key.device}\u001f${key.metric}`
  for (const [name, value] of Object.entries(key.tags)) id += `\u001f${name}=${value}`
  return id
}
