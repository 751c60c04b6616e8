import {
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  closeSync,
  fsyncSync,
  unlinkSync,
  ftruncateSync,
  statSync,
} from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { TsdbError } from '../errors.js'

/** Bytes before each record's payload: length and CRC-32 of the payload. */
const frameBytes = 8
/** A record's payload is at most this long; a longer length prefix is a torn or corrupt frame. */
const maxRecordBytes = 1 << 30

type Item =
  | {
      readonly kind: 'record'
      /** The frame header (length, CRC) and the payload, written back to back. */
      readonly frame: readonly [Buffer, Buffer]
      readonly apply: () => void
      readonly resolve: () => void
      readonly reject: (err: unknown) => void
    }
  | {
      readonly kind: 'checkpoint'
      readonly run: () => Promise<readonly Buffer[]>
      readonly resolve: () => void
      readonly reject: (err: unknown) => void
    }
  | {
      readonly kind: 'exclusive'
      readonly run: () => Promise<void> | void
      readonly resolve: () => void
      readonly reject: (err: unknown) => void
    }

/** What replaying the log found. */
export interface WalReplay {
  readonly records: number
  /** Bytes cut off the end of the last segment: a write torn by a crash, never acknowledged. */
  readonly tornBytes: number
}

/**
 * The write-ahead log: numbered segment files of CRC-framed records in `dir`. Appends are
 * group-committed: every record appended while a flush is running goes out with the next one,
 * in one write and one fdatasync, so a busy writer pays one sync per batch, not per point. A
 * record's `apply` runs, in log order, as soon as its flush is durable and before its promise
 * resolves, so the in-memory state never holds anything the log does not.
 */
export class WriteAheadLog {
  readonly #dir: string
  #segment: number
  #handle: FileHandle | undefined
  #queue: Item[] = []
  #flushing: Promise<void> | undefined
  #failed: Error | undefined
  #closed = false
  #idleWaiters: (() => void)[] = []
  /** Bytes of the segments a checkpoint has not yet replaced. */
  #liveBytes = 0

  private constructor(dir: string, segment: number) {
    this.#dir = dir
    this.#segment = segment
  }

  /**
   * Opens the log in `dir`, handing every intact record of every segment to `replay` in order.
   * A torn tail of the last segment (a crash mid-write) is cut off; a bad record anywhere
   * before that is `TSDB_WAL_CORRUPT`.
   */
  static async open(
    dir: string,
    replay: (payload: Buffer) => void,
  ): Promise<{ wal: WriteAheadLog; replay: WalReplay }> {
    mkdirSync(dir, { recursive: true })
    const segments = listSegments(dir)
    let records = 0
    let tornBytes = 0
    segments.forEach((segment, index) => {
      const path = segmentPath(dir, segment)
      const bytes = readFileSync(path)
      let at = 0
      while (at < bytes.length) {
        const payload = readFrame(bytes, at)
        if (payload === undefined) break
        replay(payload)
        records++
        at += frameBytes + payload.length
      }
      if (at < bytes.length) {
        if (index !== segments.length - 1) {
          throw new TsdbError(
            'TSDB_WAL_CORRUPT',
            `${path}: record at byte ${String(at)} is damaged and later segments follow`,
            {
              hint: 'The records before it were read; move the damaged segment aside to open the store without the rest.',
            },
          )
        }
        tornBytes = bytes.length - at
        const fd = openSync(path, 'r+')
        ftruncateSync(fd, at)
        fsyncSync(fd)
        closeSync(fd)
      }
    })
    const wal = new WriteAheadLog(dir, (segments.at(-1) ?? 0) + 1)
    wal.#liveBytes = wal.bytes()
    await wal.#openSegment()
    return { wal, replay: { records, tornBytes } }
  }

  async #openSegment(): Promise<void> {
    this.#handle = await open(segmentPath(this.#dir, this.#segment), 'a')
    syncDir(this.#dir)
  }

  /** Appends a record; `apply` runs once it is durable, then the promise resolves. */
  append(payload: Buffer, apply: () => void): Promise<void> {
    if (payload.length > maxRecordBytes) {
      return Promise.reject(
        new TsdbError('TSDB_POINT_INVALID', 'a write is too large for one log record', {
          hint: 'Split the write into smaller batches.',
        }),
      )
    }
    return this.#enqueue((resolve, reject) => ({
      kind: 'record',
      frame: frame(payload),
      apply,
      resolve,
      reject,
    }))
  }

  /**
   * Runs `run` with no log write in flight, after every record appended before it is durable and
   * applied and before any appended after it; then starts a new segment and deletes the old
   * ones. `run` must make everything the log holds durable elsewhere (it seals the heads into
   * chunks) or return it as records (`carry`: the points it left unsealed), which start the new
   * segment and are durable before the old ones go; if it throws, the log keeps its segments and
   * the promise rejects. While `run`'s promise is pending, appends wait.
   */
  checkpoint(run: () => Promise<readonly Buffer[]>): Promise<void> {
    return this.#enqueue((resolve, reject) => ({ kind: 'checkpoint', run, resolve, reject }))
  }

  /**
   * Runs `run` with no log write in flight, in log order like {@link checkpoint}, but keeps the
   * log as it is: for work on what is already sealed (compaction).
   */
  exclusive(run: () => Promise<void> | void): Promise<void> {
    return this.#enqueue((resolve, reject) => ({ kind: 'exclusive', run, resolve, reject }))
  }

  #enqueue(item: (resolve: () => void, reject: (err: unknown) => void) => Item): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed)
    if (this.#closed) return Promise.reject(new TsdbError('TSDB_CLOSED', 'the store is closed'))
    return new Promise<void>((resolve, reject) => {
      this.#queue.push(item(resolve, reject))
      this.#flushing ??= this.#flushLoop()
    })
  }

  async #flushLoop(): Promise<void> {
    // Let every append of this turn of the event loop join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve))
    while (this.#queue.length > 0 && this.#failed === undefined) {
      const next = this.#queue[0] as Item
      if (next.kind === 'exclusive') {
        this.#queue.shift()
        await runExclusive(next)
        continue
      }
      if (next.kind === 'checkpoint') {
        this.#queue.shift()
        await this.#runCheckpoint(next)
        continue
      }
      let end = 1
      while (end < this.#queue.length && this.#queue[end]?.kind === 'record') end++
      const batch = this.#queue.splice(0, end) as Extract<Item, { kind: 'record' }>[]
      try {
        const handle = this.#handle
        if (handle === undefined)
          throw new TsdbError('TSDB_CLOSED', 'the write-ahead log is closed')
        const frames = batch.flatMap((p) => p.frame)
        await handle.writev(frames)
        await handle.datasync()
        for (const f of frames) this.#liveBytes += f.length
      } catch (err) {
        // What reached the file may or may not be durable: refuse every later write rather than
        // acknowledge out of order. Reopening the store replays what did land.
        this.#failed =
          err instanceof TsdbError
            ? err
            : new TsdbError('TSDB_IO', `writing the log failed: ${(err as Error).message}`, {
                cause: err,
                retryable: true,
              })
        for (const p of [...batch, ...this.#queue.splice(0)]) p.reject(this.#failed)
        break
      }
      for (const p of batch) p.apply()
      for (const p of batch) p.resolve()
    }
    this.#flushing = undefined
    for (const wake of this.#idleWaiters.splice(0)) wake()
  }

  async #runCheckpoint(item: Extract<Item, { kind: 'checkpoint' }>): Promise<void> {
    let carry: readonly Buffer[]
    try {
      carry = await item.run()
    } catch (err) {
      item.reject(err)
      return
    }
    try {
      const done = this.#segment
      const old = this.#handle
      this.#segment++
      await this.#openSegment()
      this.#liveBytes = 0
      if (carry.length > 0) {
        const handle = this.#handle as FileHandle
        for (const record of carry) {
          if (record.length > maxRecordBytes) throw new RangeError('a carried record is too large')
          await handle.writev(frame(record))
          this.#liveBytes += frameBytes + record.length
        }
        await handle.datasync()
      }
      await old?.close()
      this.#dropThrough(done)
      item.resolve()
    } catch (err) {
      const failed = new TsdbError(
        'TSDB_IO',
        `starting a new log segment failed: ${(err as Error).message}`,
        { cause: err },
      )
      // The new segment may hold a torn record that later ones would follow: write no more.
      if (carry.length > 0) this.#failed = failed
      item.reject(failed)
    }
  }

  /** Resolves when no flush is running and nothing waits to be flushed. */
  async idle(): Promise<void> {
    while (this.#flushing !== undefined) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
    }
  }

  #dropThrough(segment: number): void {
    for (const s of listSegments(this.#dir)) if (s <= segment) unlinkSync(segmentPath(this.#dir, s))
    syncDir(this.#dir)
  }

  /** Bytes written since the last checkpoint began a segment (its carried records included). */
  get liveBytes(): number {
    return this.#liveBytes
  }

  /** Bytes the log holds on disk. */
  bytes(): number {
    return listSegments(this.#dir).reduce((n, s) => n + statSync(segmentPath(this.#dir, s)).size, 0)
  }

  async close(): Promise<void> {
    await this.idle()
    this.#closed = true
    await this.#handle?.close()
    this.#handle = undefined
  }
}

/** A record's frame: length and CRC-32 of the payload, then the payload. */
function frame(payload: Buffer): [Buffer, Buffer] {
  const header = Buffer.allocUnsafe(frameBytes)
  header.writeUInt32LE(payload.length, 0)
  header.writeUInt32LE(crc32(payload), 4)
  return [header, payload]
}

async function runExclusive(item: Extract<Item, { kind: 'exclusive' }>): Promise<void> {
  try {
    await item.run()
    item.resolve()
  } catch (err) {
    item.reject(err)
  }
}

function readFrame(bytes: Buffer, at: number): Buffer | undefined {
  if (at + frameBytes > bytes.length) return undefined
  const length = bytes.readUInt32LE(at)
  if (length > maxRecordBytes || at + frameBytes + length > bytes.length) return undefined
  const payload = bytes.subarray(at + frameBytes, at + frameBytes + length)
  return crc32(payload) === bytes.readUInt32LE(at + 4) ? payload : undefined
}

function segmentPath(dir: string, segment: number): string {
  return join(dir, `${String(segment).padStart(10, '0')}.wal`)
}

function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .filter((name) => /^\d{10}\.wal$/.test(name))
    .map((name) => Number(name.slice(0, 10)))
    .sort((a, b) => a - b)
}

/** Makes a created or deleted file name durable. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
