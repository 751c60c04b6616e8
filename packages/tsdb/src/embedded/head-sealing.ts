import { unitsPerMs } from '../model/points.js'
import { mergeForSeal } from './chunk-writer.js'
import { decodeOrQuarantine } from './chunk-quarantine.js'
import type { EncodeJob } from './encode-batch.js'
import type { Columns } from './head.js'
import { carriedRecords, sealEverything, sealWholeChunks, type HeadSplit } from './seal-plan.js'
import type { SeriesEntry } from './series-index.js'
import { inBackground, type StoreParts } from './store-parts.js'
import { WholeChunkSealer } from './whole-chunk-sealer.js'

/**
 * Points in the head from which the encoding threads are started: a fresh thread costs about
 * 150 ms of CPU (start, loading the encoder's modules, compiling it), worth it for a store
 * that will seal hundreds of thousands of points, not for a small one.
 */
const warmPoolPoints = 500_000

/** The bounds of the head and the log (see `EmbeddedStoreOptions`). */
export interface HeadBounds {
  readonly headMaxPoints: number
  readonly walMaxBytes: number
  readonly compactAfterMs: number
}

/**
 * Moves the head into chunks: checkpoints (everything, or what relieves the head), whole chunks
 * sealed in the background as they fill, and the exclusive log steps that rewrite sealed chunks
 * (compaction, deletes, retention) run through {@link step}.
 */
export class HeadSealing {
  readonly #parts: StoreParts
  readonly #bounds: HeadBounds
  readonly #compact: () => Promise<unknown>
  readonly #sealer: WholeChunkSealer
  #headPoints: number
  /** A checkpoint that relieves the head, and the compaction after it, under way. */
  #relieving: Promise<void> | undefined
  /**
   * Log steps (checkpoints, compaction, rewrites) under way. What a background seal took out of
   * the heads is in neither the chunks nor a log segment of its own until it is stored, so a
   * step waits for a background seal to finish, and none starts while a step runs.
   */
  #steps = 0

  /** `compact`: the compaction that follows a relieving checkpoint. */
  constructor(
    parts: StoreParts,
    bounds: HeadBounds,
    headPoints: number,
    compact: () => Promise<unknown>,
  ) {
    this.#parts = parts
    this.#bounds = bounds
    this.#headPoints = headPoints
    this.#compact = compact
    this.#sealer = new WholeChunkSealer({
      index: parts.index,
      catalogue: parts.catalogue,
      encoder: parts.encoder,
      layout: parts.layout,
      decode: (entry, chunk) => decodeOrQuarantine(parts, entry, chunk),
      inBackground: (work) => inBackground(parts, work),
      sealed: () => this.#countHead(),
    })
  }

  /** Points in the heads, those a background seal is storing included. */
  get headPoints(): number {
    return this.#headPoints
  }

  /** Notes `added` points appended to a series' head (in the log's apply, in log order). */
  appended(entry: SeriesEntry, added: number): void {
    this.#headPoints += added
    this.#sealer.appended(entry, added)
  }

  /**
   * After a write: seals whole chunks in the background as they fill; relieves a head over its
   * budget in the background too (whole chunks, and everything of the series that keep the most
   * points until half the budget is left), so that writes go on; and only when the log is over
   * its bound, or the head over half as much again as its budget (writes outran the seals),
   * runs a relieving checkpoint, which writes wait for.
   */
  afterWrite(): void {
    // A head this big will be sealed: start the encoding threads before they are needed.
    if (this.#headPoints >= warmPoolPoints) this.#parts.encoder.warm()
    if (this.#relieving !== undefined) return
    // Points a background seal took leave the head soon: they count once it is done.
    const live = this.#headPoints - this.#sealer.takenPoints
    const { headMaxPoints, walMaxBytes } = this.#bounds
    if (this.#parts.wal.liveBytes >= walMaxBytes || live >= headMaxPoints * 1.5) {
      this.#relieve()
      return
    }
    if (this.#steps !== 0 || this.#sealer.running !== undefined) return
    if (live >= headMaxPoints) this.#sealer.start(this.closedBefore(), this.#overBudget())
    else if (this.#sealer.due) this.#sealer.start(this.closedBefore())
  }

  /**
   * The series whose every live point a background relief seals: as `#sealLargest` picks them,
   * those that would keep the most points after their whole chunks, until half the budget is
   * kept.
   */
  #overBudget(): Set<SeriesEntry> {
    const { maxPoints } = this.#parts.layout
    const kept: { entry: SeriesEntry; points: number }[] = []
    let total = 0
    for (const entry of this.#parts.index.all()) {
      const points = entry.head.liveSize % maxPoints
      if (points === 0) continue
      kept.push({ entry, points })
      total += points
    }
    const out = new Set<SeriesEntry>()
    const budget = this.#bounds.headMaxPoints / 2
    if (total <= budget) return out
    kept.sort((a, b) => b.points - a.points)
    for (const k of kept) {
      if (total <= budget) break
      total -= k.points
      out.add(k.entry)
    }
    return out
  }

  /** The timer's check: relieves the head if a checkpoint would seal anything. */
  relieveIfSealable(): void {
    if (this.#relieving === undefined && this.#hasSealable()) this.#relieve()
  }

  /** Resolves once no relieving checkpoint and no background seal runs (for close). */
  async settled(): Promise<void> {
    await this.#relieving
    await this.#sealer.running
  }

  /** Seals every unsealed point into chunks and starts a fresh log. */
  checkpoint(): Promise<void> {
    return this.#seal(true, undefined)
  }

  /**
   * A full checkpoint whose `then` runs in the same exclusive step, on the sealed chunks, with
   * nothing unsealed left (deletes and retention rewrite chunks this way).
   */
  sealThen(then: () => void): Promise<void> {
    return this.#seal(true, then)
  }

  /** A log step's work, run once a background seal in flight has stored its chunks. */
  step<T>(run: () => Promise<T> | T): () => Promise<T> {
    return async () => {
      while (this.#sealer.running !== undefined) await this.#sealer.running
      this.#steps++
      try {
        return await run()
      } finally {
        this.#steps--
      }
    }
  }

  /** Windows that ended before this are closed: sealed whole, joined by compaction. */
  closedBefore(): number {
    return (this.#parts.now() - this.#bounds.compactAfterMs) * unitsPerMs(this.#parts.precision)
  }

  /**
   * Seals the head into chunks in one transaction, in log order, and starts a new log segment.
   * `full` seals every point; otherwise only what relieves the head (see `headMaxPoints`), and
   * the points left in the head start the new segment as one record.
   */
  #seal(full: boolean, then: (() => void) | undefined): Promise<void> {
    const { wal, index, catalogue, encoder, layout } = this.#parts
    return wal.checkpoint(
      this.step(async () => {
        const closedBefore = this.closedBefore()
        const splits: { entry: SeriesEntry; split: HeadSplit }[] = []
        this.#sealer.reset()
        for (const entry of index.all()) {
          if (entry.head.size === 0) continue
          const points = entry.head.live()
          const split = full
            ? sealEverything(points, layout)
            : sealWholeChunks(entry.type, points, layout, closedBefore)
          splits.push({ entry, split })
        }
        if (!full) this.#sealLargest(splits)
        const remove: number[] = []
        const jobs: EncodeJob[] = []
        const carried: { entry: SeriesEntry; keep: Columns }[] = []
        for (const { entry, split } of splits) {
          for (const part of split.seal) {
            const merged = mergeForSeal(catalogue, entry.id, entry.type, part, (c) =>
              decodeOrQuarantine(this.#parts, entry, c),
            )
            remove.push(...merged.remove)
            jobs.push({ seriesId: entry.id, type: entry.type, ...merged.points })
          }
          if (split.keep.times.length > 0) carried.push({ entry, keep: split.keep })
        }
        const carry = carriedRecords(
          carried.map(({ entry, keep }) => ({ seriesId: entry.id, type: entry.type, keep })),
        )
        // Appends wait while the chunks are encoded (the heads stay as they are until then).
        const add = await encoder.encode(jobs, layout, true)
        catalogue.replaceChunks(remove, add)
        for (const { entry, split } of splits) entry.head.replace(split.keep)
        this.#countHead()
        then?.()
        catalogue.checkpoint()
        return carry
      }),
    )
  }

  #countHead(): void {
    let n = 0
    for (const entry of this.#parts.index.all()) n += entry.head.size
    this.#headPoints = n
  }

  /** Seals everything of the series that keep the most points until half the budget is left. */
  #sealLargest(splits: { entry: SeriesEntry; split: HeadSplit }[]): void {
    let kept = splits.reduce((n, s) => n + s.split.keep.times.length, 0)
    const budget = this.#bounds.headMaxPoints / 2
    if (kept <= budget) return
    const byKept = [...splits].sort((a, b) => b.split.keep.times.length - a.split.keep.times.length)
    for (const s of byKept) {
      if (kept <= budget) break
      kept -= s.split.keep.times.length
      s.split = sealEverything(s.entry.head.live(), this.#parts.layout)
    }
  }

  /** Starts a checkpoint that relieves the head, then compaction, in the background. */
  #relieve(): void {
    const work = async (): Promise<void> => {
      await this.#seal(false, undefined)
      await this.#compact()
    }
    this.#relieving = inBackground(this.#parts, work()).finally(() => {
      this.#relieving = undefined
    })
  }

  /**
   * Whether a relieving checkpoint would seal anything: a series holds a whole chunk, or points
   * of a window that has closed (else it would only copy the head into a new log segment).
   */
  #hasSealable(): boolean {
    const closedBefore = this.closedBefore()
    const { window, maxPoints } = this.#parts.layout
    for (const entry of this.#parts.index.all()) {
      if (entry.head.liveSize === 0) continue
      if (entry.head.liveSize >= maxPoints) return true
      const first = entry.head.live().times[0] as number
      if ((Math.floor(first / window) + 1) * window <= closedBefore) return true
    }
    return false
  }
}
