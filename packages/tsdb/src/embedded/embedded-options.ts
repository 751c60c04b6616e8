import type { StoreOptions } from '../store.js'

/** Options of the embedded engine. */
export interface EmbeddedStoreOptions extends StoreOptions {
  /**
   * Relieve the head once it holds this many points (default 8,000,000: about 128 MiB of typed
   * columns, room for a whole chunk of each of 500 busy series). A relief seals windows that
   * have closed and, of open ones, whole chunks only, unless what stays is over half the budget:
   * then the series with the most unsealed points seal them too. It runs on an encoding thread
   * while writes go on (see `encodeThreads`), as whole chunks are sealed as they fill; what such
   * a seal has taken counts here once it is done. Should writes outrun it and the head reach
   * half as much again, a relieving checkpoint runs instead, which writes wait for (what it
   * leaves in the head is re-logged at the start of the new log segment).
   */
  readonly headMaxPoints?: number
  /**
   * … and run that relieving checkpoint once the log holds this many bytes (default 256 MiB):
   * seals while writes go on keep the head small but not the log (it keeps their points until
   * then, for a crash), which only a checkpoint starts anew.
   */
  readonly walMaxBytes?: number
  /**
   * … and this often, in ms of wall time (default 10 minutes), when a series holds a whole chunk
   * or points of a window that has closed.
   */
  readonly checkpointIntervalMs?: number
  /** Points per chunk at most (default 16,384). */
  readonly chunkMaxPoints?: number
  /**
   * A day window's chunks are joined once the window ended this long ago (default 1 hour), or
   * earlier once it holds 8 chunks.
   */
  readonly compactAfterMs?: number
  /**
   * Threads that encode chunks beside the caller's (default: one per core but one). A seal
   * shares its encoding between them and the calling thread. They run the compiled encoder
   * (`dist/`); run from source with no build as new as the sources, everything is encoded on
   * the calling thread, byte for byte the same.
   */
  readonly encodeThreads?: number
  /** Memory for decoded chunks and rollups (default 64 MiB). */
  readonly cacheBytes?: number
  /** How often retention runs on its own, in ms (default 1 hour; 0: only when called). */
  readonly retentionIntervalMs?: number
  /**
   * Told about what goes wrong out of a caller's sight: a background checkpoint or retention run
   * that failed, a damaged chunk moved to quarantine (default: a process warning).
   */
  readonly onBackgroundError?: (err: unknown) => void
}
