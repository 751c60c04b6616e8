import { CloudError } from '../errors.js'
import type { JsonObject } from '@strata/protocol'
import { depthOf } from './twin-metadata.js'

/** Bounds on a device's twin. */
export interface TwinLimits {
  /** Largest desired or reported document, in bytes of JSON (default 256 KiB). */
  readonly maxDocumentBytes: number
  /** Deepest nesting of a document or a patch (default 16 levels; `{}` is one). */
  readonly maxDepth: number
  /**
   * Changes of one side kept as patches (default 10,000); older ones fold into a baseline, so the
   * twin as it was before the baseline can no longer be rebuilt.
   */
  readonly historyMaxEntries: number
}

export const defaultTwinLimits: TwinLimits = {
  maxDocumentBytes: 256 * 1024,
  maxDepth: 16,
  historyMaxEntries: 10_000,
}

/** Throws `CLOUD_TWIN_TOO_LARGE` for a patch nested deeper than the limit (checked before merging). */
export function checkPatchDepth(patch: JsonObject, limits: TwinLimits, side: string): void {
  if (depthOf(patch, limits.maxDepth + 1) > limits.maxDepth) {
    throw tooLarge(`the ${side} patch is nested deeper than ${String(limits.maxDepth)} levels`)
  }
}

/** The document as stored; throws `CLOUD_TWIN_TOO_LARGE` when it is over the size or depth limit. */
export function serializeDocument(doc: JsonObject, limits: TwinLimits, side: string): string {
  if (depthOf(doc, limits.maxDepth + 1) > limits.maxDepth) {
    throw tooLarge(
      `the ${side} document would be nested deeper than ${String(limits.maxDepth)} levels`,
    )
  }
  const json = JSON.stringify(doc)
  const bytes = Buffer.byteLength(json)
  if (bytes > limits.maxDocumentBytes) {
    throw tooLarge(
      `the ${side} document would be ${String(bytes)} bytes of JSON, over the limit of ${String(limits.maxDocumentBytes)}`,
    )
  }
  return json
}

/** `CLOUD_TWIN_TOO_LARGE` with the limits in its hint. */
export function tooLarge(message: string): CloudError {
  return new CloudError('CLOUD_TWIN_TOO_LARGE', message, {
    hint: 'Each side of a twin has a size and depth limit (256 KiB of JSON, 16 levels, by default): keep bulk data in telemetry, and delete properties you no longer need (null).',
  })
}
