import { existsSync, readdirSync, statSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type { NewChunk } from './catalogue.js'
import type { ChunkLayout } from './chunk-writer.js'
import { detachJob, encodeBatch, unpackChunks, type EncodeJob } from './encode-batch.js'
import type { EncodeReply, EncodeRequest } from './encode-worker.js'

/** An encoding worker's script and the Node flags it runs with. */
export interface WorkerSpec {
  readonly script: URL
  readonly execArgv: readonly string[]
}

/** Points per message to a worker: small enough to share the tail of a seal evenly. */
const batchPoints = 32_768

/**
 * Encodes chunks on worker threads, so that sealing uses the other cores: a checkpoint's
 * encoding is split between the workers and (when it would wait anyway) the calling thread.
 * Workers run the compiled encoder (`dist/embedded/encode-worker.js`, from `tsc -b`); run from
 * source without a build at least as new as the sources, or with no threads asked for, it
 * encodes on the calling thread, with the same output.
 */
export class EncodePool {
  readonly #worker: WorkerSpec | undefined
  readonly #size: number
  #workers: PoolWorker[] | undefined
  #closed = false
  /** Points encoded so far on the workers and on the calling thread. */
  readonly encoded = { workers: 0, here: 0 }

  /** `worker`: another worker script and its Node flags (tests run the source one under tsx). */
  constructor(threads: number, worker?: WorkerSpec) {
    const script = threads > 0 ? (worker?.script ?? workerScript()) : undefined
    this.#worker = script === undefined ? undefined : { script, execArgv: worker?.execArgv ?? [] }
    this.#size = script === undefined ? 0 : threads
  }

  /** Worker threads the pool runs (0: everything is encoded on the calling thread). */
  get threads(): number {
    return this.#size
  }

  /**
   * Starts the workers ahead of their first batch: a thread takes some hundreds of ms of CPU to
   * start (loading the modules) and to compile the encoder, so only a store that will seal
   * millions of points starts them.
   */
  warm(): void {
    if (this.#workers !== undefined || this.#size === 0 || this.#closed) return
    const spec = this.#worker as WorkerSpec
    this.#workers = Array.from({ length: this.#size }, () => new PoolWorker(spec))
  }

  /**
   * The chunks of every job, in job order, encoded on the workers if they were started (else
   * here). `help`: the calling thread encodes too, taking batches between the workers' (it would
   * otherwise wait); else it only hands them out.
   */
  async encode(
    jobs: readonly EncodeJob[],
    layout: ChunkLayout,
    help: boolean,
  ): Promise<NewChunk[]> {
    // A small seal is not worth a message. Workers are used once started (see `warm`): a fresh
    // thread costs more to start and compile the encoder than a small store's seals take.
    const points = pointsOf(jobs)
    if (points < (help ? 2 * batchPoints : batchPoints / 4)) return this.#here(jobs, layout)
    const workers = (this.#workers ?? []).filter((w) => w.alive)
    if (workers.length === 0) return this.#here(jobs, layout)
    const batches = batchesOf(jobs)
    const results: NewChunk[][] = new Array<NewChunk[]>(batches.length)
    let next = 0
    const byWorker = async (worker: PoolWorker): Promise<void> => {
      for (let i = next++; i < batches.length; i = next++) {
        const batch = batches[i] as EncodeJob[]
        try {
          results[i] = await worker.encode(batch, layout)
          this.encoded.workers += pointsOf(batch)
        } catch {
          // A worker that failed or died: this batch here, where an error reaches the caller.
          results[i] = this.#here(batch, layout)
        }
      }
    }
    const here = async (): Promise<void> => {
      for (let i = next++; i < batches.length; i = next++) {
        results[i] = this.#here(batches[i] as EncodeJob[], layout)
        // Let the workers' answers in, and hand them their next batch.
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    }
    // Two batches in flight per worker, so that none waits for the next while this thread is
    // busy.
    const lanes = workers.flatMap((w) => [byWorker(w), byWorker(w)])
    await Promise.all([...lanes, ...(help ? [here()] : [])])
    return results.flat()
  }

  #here(jobs: readonly EncodeJob[], layout: ChunkLayout): NewChunk[] {
    const chunks = unpackChunks(encodeBatch(jobs, layout), jobs.length).flat()
    this.encoded.here += pointsOf(jobs)
    return chunks
  }

  async close(): Promise<void> {
    this.#closed = true
    const workers = this.#workers ?? []
    this.#workers = undefined
    await Promise.all(workers.map((w) => w.close()))
  }
}

function pointsOf(jobs: readonly EncodeJob[]): number {
  return jobs.reduce((n, job) => n + job.times.length, 0)
}

function batchesOf(jobs: readonly EncodeJob[]): EncodeJob[][] {
  const batches: EncodeJob[][] = []
  let batch: EncodeJob[] = []
  let points = 0
  for (const job of jobs) {
    batch.push(job)
    points += job.times.length
    if (points >= batchPoints) {
      batches.push(batch)
      batch = []
      points = 0
    }
  }
  if (batch.length > 0) batches.push(batch)
  return batches
}

/** One worker thread and its batches in flight. */
class PoolWorker {
  readonly #worker: Worker
  readonly #pending = new Map<number, { resolve: (c: NewChunk[]) => void; jobs: number }>()
  readonly #failures = new Map<number, (err: Error) => void>()
  #next = 0
  alive = true

  constructor(spec: WorkerSpec) {
    // No inherited flags: the compiled worker needs neither a TypeScript loader nor conditions.
    this.#worker = new Worker(spec.script, { execArgv: [...spec.execArgv] })
    this.#worker.unref()
    this.#worker.on('message', (reply: EncodeReply) => {
      const pending = this.#pending.get(reply.id)
      const fail = this.#failures.get(reply.id)
      this.#pending.delete(reply.id)
      this.#failures.delete(reply.id)
      if (this.#pending.size === 0) this.#worker.unref()
      if (pending === undefined || fail === undefined) return
      if ('error' in reply) fail(new Error(reply.error))
      else pending.resolve(unpackChunks(reply, pending.jobs).flat())
    })
    const die = (err: Error): void => {
      this.alive = false
      for (const fail of this.#failures.values()) fail(err)
      this.#pending.clear()
      this.#failures.clear()
    }
    this.#worker.on('error', die)
    this.#worker.on('exit', () => die(new Error('the encoding worker exited')))
  }

  encode(jobs: readonly EncodeJob[], layout: ChunkLayout): Promise<NewChunk[]> {
    if (!this.alive) return Promise.reject(new Error('the encoding worker is gone'))
    const id = this.#next++
    const detached = jobs.map(detachJob)
    const request: EncodeRequest = { id, layout, jobs: detached.map((d) => d.job) }
    // Referenced while it has work, so the process waits for the answer; idle, it keeps no one.
    if (this.#pending.size === 0) this.#worker.ref()
    return new Promise<NewChunk[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, jobs: jobs.length })
      this.#failures.set(id, reject)
      this.#worker.postMessage(
        request,
        detached.flatMap((d) => d.transfer),
      )
    })
  }

  async close(): Promise<void> {
    this.alive = false
    await this.#worker.terminate()
  }
}

/**
 * The compiled worker: beside this file when it runs compiled; when it runs from source (tsx and
 * the `strata-source` condition), the one in `dist/` if every source file's compiled file there
 * is at least as new as it (a stale build could encode differently from the sources).
 */
function workerScript(): URL | undefined {
  const here = new URL(import.meta.url)
  if (here.pathname.endsWith('.js')) {
    const script = new URL('./encode-worker.js', here)
    return existsSync(script) ? script : undefined
  }
  const sources = new URL('../', here)
  const dist = new URL('../dist/', sources)
  const stale = (readdirSync(sources, { recursive: true }) as string[]).some((name) => {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) return false
    const built = new URL(name.replace(/\.ts$/, '.js'), dist)
    return !existsSync(built) || statSync(built).mtimeMs < statSync(new URL(name, sources)).mtimeMs
  })
  return stale ? undefined : new URL('embedded/encode-worker.js', dist)
}
