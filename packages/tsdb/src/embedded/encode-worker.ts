/**
 * The encoding thread of an {@link EncodePool}: takes batches of jobs, answers with their packed
 * chunks (or the error's message: the pool then encodes that batch itself, so the error is
 * thrown where the caller sees it).
 */
import { parentPort } from 'node:worker_threads'
import type { ChunkLayout } from './chunk-writer.js'
import { encodeBatch, type EncodeJob } from './encode-batch.js'

/** What the pool sends. */
export interface EncodeRequest {
  readonly id: number
  readonly layout: ChunkLayout
  readonly jobs: readonly EncodeJob[]
}

/** What the worker answers. */
export type EncodeReply =
  | { readonly id: number; readonly meta: Float64Array; readonly bytes: Uint8Array }
  | { readonly id: number; readonly error: string }

const port = parentPort
port?.on('message', (request: EncodeRequest) => {
  let reply: EncodeReply
  try {
    const { meta, bytes } = encodeBatch(request.jobs, request.layout)
    reply = { id: request.id, meta, bytes }
    port.postMessage(reply, [meta.buffer as ArrayBuffer, bytes.buffer as ArrayBuffer])
  } catch (err) {
    reply = { id: request.id, error: err instanceof Error ? err.message : String(err) }
    port.postMessage(reply)
  }
})
