import { planCompaction } from './chunk-writer.js'
import { columnsOrQuarantine } from './chunk-quarantine.js'
import type { EncodeJob } from './encode-batch.js'
import type { HeadSealing } from './head-sealing.js'
import type { StoreParts } from './store-parts.js'

/** What a compaction joined. */
export interface CompactionResult {
  readonly points: number
  readonly windows: number
}

/**
 * Joins the chunks of day windows that hold more chunks than their points need (checkpoints
 * leave one small chunk per series each), one compaction at a time, in slices that run as
 * exclusive log steps so writes go on in between.
 */
export class Compaction {
  readonly #parts: StoreParts
  readonly #sealing: HeadSealing
  #running: Promise<CompactionResult> | undefined

  constructor(parts: StoreParts, sealing: HeadSealing) {
    this.#parts = parts
    this.#sealing = sealing
  }

  /** The compaction under way, if any. */
  get running(): Promise<CompactionResult> | undefined {
    return this.#running
  }

  /**
   * By default only windows that ended `compactAfterMs` ago or hold 8 chunks; `all` joins every
   * one. Waits for a compaction under way first.
   */
  async compact(all: boolean): Promise<CompactionResult> {
    while (this.#running !== undefined) await this.#running.catch(() => undefined)
    const run = this.#compact(all).finally(() => {
      this.#running = undefined
    })
    this.#running = run
    return run
  }

  async #compact(all: boolean): Promise<CompactionResult> {
    const { catalogue, index, wal, encoder, layout } = this.#parts
    const { window, maxPoints } = layout
    const closedBefore = this.#sealing.closedBefore()
    const windows = catalogue
      .fragmentedWindows(window, maxPoints)
      .map((w) => ({ ...w, closed: all || w.windowStart + window <= closedBefore }))
      .filter((w) => w.closed || w.parts >= 8)
    let points = 0
    for (let i = 0; i < windows.length && !this.#parts.isClosed();) {
      const slice: typeof windows = []
      for (let size = 0; i < windows.length && size < 200_000; i++) {
        const w = windows[i] as (typeof windows)[number]
        slice.push(w)
        size += w.points
      }
      await wal.exclusive(
        this.#sealing.step(async () => {
          const remove: number[] = []
          const jobs: EncodeJob[] = []
          for (const w of slice) {
            const entry = index.byId(w.seriesId)
            if (entry === undefined) continue
            const plan = planCompaction(
              catalogue,
              entry.id,
              entry.type,
              w.windowStart,
              w.closed,
              layout,
              (c) => columnsOrQuarantine(this.#parts, entry, c),
            )
            remove.push(...plan.remove)
            for (const joined of plan.joined)
              jobs.push({ seriesId: entry.id, type: entry.type, ...joined })
            points += plan.points
          }
          catalogue.replaceChunks(remove, await encoder.encode(jobs, layout, true))
        }),
      )
    }
    if (windows.length > 0 && !this.#parts.isClosed()) {
      // Give the freed pages back and fold SQLite's log into the file.
      await wal.exclusive(
        this.#sealing.step(() => {
          catalogue.checkpoint()
        }),
      )
    }
    return { points, windows: windows.length }
  }
}
