import { StoreError } from './store-error.js'

/**
 * Checked reads of the columns of one SQLite row. Rows cross a process boundary (the file may have
 * been damaged or edited), so every value is checked once here and trusted afterwards. The error
 * names the table, the row's key and the column, never a payload; the caller adds the file path.
 *
 * Hand-written rather than a TypeBox decoder: the mqtt package does not depend on typebox, and the
 * checks are six column kinds.
 */
export class RowReader {
  readonly #table: string
  readonly #keyColumns: readonly string[]
  #row: Record<string, unknown> = {}

  constructor(table: string, keyColumns: readonly string[]) {
    this.#table = table
    this.#keyColumns = keyColumns
  }

  /** Points the reader at the next row; returns it for chaining. */
  at(row: unknown): this {
    if (typeof row !== 'object' || row === null) this.fail('is not a row')
    this.#row = row as Record<string, unknown>
    return this
  }

  int(column: string): number {
    const v = this.#row[column]
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v
    return this.fail(`column ${column} must be an integer`)
  }

  optInt(column: string): number | undefined {
    return this.#row[column] === null ? undefined : this.int(column)
  }

  /** A finite number: timestamps are REAL so a fractional clock round-trips. */
  num(column: string): number {
    const v = this.#row[column]
    if (typeof v === 'number' && Number.isFinite(v)) return v
    return this.fail(`column ${column} must be a number`)
  }

  optNum(column: string): number | undefined {
    return this.#row[column] === null ? undefined : this.num(column)
  }

  text(column: string): string {
    const v = this.#row[column]
    if (typeof v === 'string') return v
    return this.fail(`column ${column} must be text`)
  }

  optText(column: string): string | undefined {
    return this.#row[column] === null ? undefined : this.text(column)
  }

  /** A BLOB as a plain Uint8Array view (no copy), so it compares equal to what was written. */
  bytes(column: string): Uint8Array {
    const v = this.#row[column]
    if (v instanceof Uint8Array) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
    return this.fail(`column ${column} must be a blob`)
  }

  /** An integer out of a fixed set, typed as that set. */
  oneOf<T extends number>(column: string, allowed: readonly T[]): T {
    const v = this.int(column)
    if ((allowed as readonly number[]).includes(v)) return v as T
    return this.fail(`column ${column} must be one of ${allowed.join(', ')}`)
  }

  /** Text out of a fixed set, typed as that set. */
  textOf<T extends string>(column: string, allowed: readonly T[]): T {
    const v = this.text(column)
    if ((allowed as readonly string[]).includes(v)) return v as T
    return this.fail(`column ${column} must be one of ${allowed.join(', ')}`)
  }

  /** A JSON array of integers, or undefined for NULL. */
  optIntArray(column: string): number[] | undefined {
    const json = this.optText(column)
    if (json === undefined) return undefined
    let v: unknown
    try {
      v = JSON.parse(json)
    } catch {
      return this.fail(`column ${column} is not JSON`)
    }
    if (Array.isArray(v) && v.every((x) => Number.isSafeInteger(x))) return v as number[]
    return this.fail(`column ${column} must be an array of integers`)
  }

  bool(column: string): boolean {
    return this.oneOf(column, [0, 1]) === 1
  }

  /** Throws MQTT_STORE_CORRUPT naming the table, this row's key and `what`. */
  fail(what: string): never {
    const key = this.#keyColumns.map((c) => {
      const v = this.#row[c]
      return `${c}=${v === undefined ? 'missing' : JSON.stringify(v)}`
    })
    throw new StoreError('MQTT_STORE_CORRUPT', `table ${this.#table} (${key.join(', ')}): ${what}`)
  }
}
