import type { Catalogue, ChunkRow } from './catalogue.js'
import { mergeForSeal, type ChunkLayout } from './chunk-writer.js'
import type { EncodePool } from './encode-pool.js'
import type { SortedPoints } from './head.js'
import { takeWholeChunks } from './seal-plan.js'
import type { SeriesEntry, SeriesIndex } from './series-index.js'

/** Whole chunks' worth of points in live heads from which a background seal starts. */
const startChunks = 4

/** What the sealer needs of its store. */
export interface WholeChunkSealerParts {
  readonly index: SeriesIndex
  readonly catalogue: Catalogue
  readonly encoder: EncodePool
  readonly layout: ChunkLayout
  /** A sealed chunk's points, for merging late points (a damaged chunk goes to quarantine). */
  readonly decode: (entry: SeriesEntry, chunk: ChunkRow) => SortedPoints
  /** Runs the seal's promise, reporting its error out of the caller's sight. */
  readonly inBackground: (work: Promise<void>) => Promise<void>
  /** Told when a seal stored its chunks (the heads shrank). */
  readonly sealed: () => void
}

/**
 * Seals whole chunks (and windows that have closed) while writes go on. It watches the series
 * whose live head holds a whole chunk; once they hold a few chunks' worth, it takes those points
 * out of the live heads at once (they stay visible to readers as the heads' sealing points),
 * has the encoding threads encode them, and stores the chunks in one transaction. The log keeps
 * the points until a checkpoint starts it anew: a crash replays them into the head, and opening
 * the store seals them again, merged with their chunks. One seal at a time; checkpoints,
 * compaction and rewrites wait for it (see `running`) and it starts none while they run.
 */
export class WholeChunkSealer {
  readonly #parts: WholeChunkSealerParts
  /** Series whose live head holds a whole chunk, and roughly the points they hold. */
  readonly #full = new Set<SeriesEntry>()
  #fullPoints = 0
  #running: Promise<void> | undefined
  #taken = 0

  constructor(parts: WholeChunkSealerParts) {
    this.#parts = parts
  }

  /** The seal under way, if any. */
  get running(): Promise<void> | undefined {
    return this.#running
  }

  /** Points the seal under way took out of the live heads (0 when none runs). */
  get takenPoints(): number {
    return this.#taken
  }

  /** Notes `added` points appended to a series' head. */
  appended(entry: SeriesEntry, added: number): void {
    if (entry.head.liveSize < this.#parts.layout.maxPoints) return
    this.#fullPoints += this.#full.has(entry) ? added : entry.head.liveSize
    this.#full.add(entry)
  }

  /** Whether enough whole chunks wait, and no seal runs. */
  get due(): boolean {
    return (
      this.#running === undefined && this.#fullPoints >= startChunks * this.#parts.layout.maxPoints
    )
  }

  /** Forgets the full heads (a checkpoint sealed them). */
  reset(): void {
    this.#full.clear()
    this.#fullPoints = 0
  }

  /**
   * Starts a seal of the whole chunks and of windows closed before `closedBefore`, and of every
   * live point of the series in `sealAll`.
   */
  start(closedBefore: number, sealAll?: ReadonlySet<SeriesEntry>): void {
    if (this.#running !== undefined) return
    this.reset()
    const { index, catalogue, encoder, layout, decode } = this.#parts
    const taken = takeWholeChunks(
      index.all(),
      layout,
      closedBefore,
      (entry, part) => mergeForSeal(catalogue, entry.id, entry.type, part, (c) => decode(entry, c)),
      sealAll,
    )
    if (taken.entries.length === 0) return
    this.#taken = taken.jobs.reduce((n, job) => n + job.times.length, 0)
    const work = async (): Promise<void> => {
      try {
        const add = await encoder.encode(taken.jobs, layout, false)
        catalogue.replaceChunks(taken.remove, add)
      } catch (err) {
        for (const entry of taken.entries) entry.head.unseal()
        throw err
      }
      for (const entry of taken.entries) entry.head.sealed()
      this.#parts.sealed()
    }
    this.#running = this.#parts.inBackground(work()).finally(() => {
      this.#running = undefined
      this.#taken = 0
    })
  }
}
