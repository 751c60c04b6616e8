import { createHash, type Hash } from 'node:crypto'
import { ProtocolError } from '../errors/protocol-error.js'
import type { FirmwareManifest } from './manifest.js'

/** Options for `verifyImage`. */
export interface VerifyImageOptions {
  /** Which artefact the bytes are: the full image (default) or the manifest's delta. */
  readonly part?: 'image' | 'delta'
  /** Stops hashing a stream between chunks. */
  readonly signal?: AbortSignal
}

const hint = 'Do not install it: download the image again, and check that it matches this manifest.'

function mismatch(message: string, details: Record<string, unknown>): ProtocolError {
  return new ProtocolError('PROTOCOL_INVALID', message, { hint, details })
}

async function hashChunks(
  chunks: AsyncIterable<Uint8Array>,
  hash: Hash,
  expectedSize: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  let size = 0
  for await (const chunk of chunks) {
    signal?.throwIfAborted()
    if (!(chunk instanceof Uint8Array)) {
      throw new ProtocolError(
        'PROTOCOL_INVALID',
        'firmware image stream yielded a chunk that is not bytes',
        {
          hint: 'Read the image as a binary stream (no encoding set).',
        },
      )
    }
    size += chunk.length
    // Stop at the first byte too many instead of hashing an endless or oversized stream.
    if (size > expectedSize) {
      throw mismatch(
        `firmware image is longer than the ${String(expectedSize)} bytes in its manifest`,
        {
          expectedSize,
          readSize: size,
        },
      )
    }
    hash.update(chunk)
  }
  return size
}

/**
 * Checks that firmware bytes are the ones a verified manifest describes: exact size, then
 * SHA-256. Takes the whole image or an async iterable of chunks (a `fs.createReadStream`, a
 * fetch body), which it hashes as it goes, so a 100 MB image is never held in memory; a stream
 * is cut off at the first byte past the expected size. Throws `PROTOCOL_INVALID` on any mismatch.
 * Call it on the device after `verifyManifest` and before writing the image to flash.
 *
 * @example
 * const manifest = verifyManifest(envelope, policy)
 * await verifyImage(manifest, fs.createReadStream('/data/ota/image.bin'))
 */
export async function verifyImage(
  manifest: FirmwareManifest,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  options: VerifyImageOptions = {},
): Promise<void> {
  const part = options.part ?? 'image'
  const expected = part === 'image' ? manifest.image : manifest.delta
  if (expected === undefined) {
    throw new ProtocolError(
      'PROTOCOL_INVALID',
      `manifest for ${manifest.product} ${manifest.version} has no delta`,
      {
        hint: 'Download and verify the full image instead.',
      },
    )
  }
  const hash = createHash('sha256')
  let size: number
  if (data instanceof Uint8Array) {
    size = data.length
    if (size === expected.size) hash.update(data)
  } else {
    size = await hashChunks(data, hash, expected.size, options.signal)
  }
  if (size !== expected.size) {
    throw mismatch(
      `firmware ${part} is ${String(size)} bytes; its manifest says ${String(expected.size)}`,
      {
        expectedSize: expected.size,
        size,
      },
    )
  }
  const sha256 = hash.digest('hex')
  if (sha256 !== expected.sha256) {
    throw mismatch(`firmware ${part} has SHA-256 ${sha256}; its manifest says ${expected.sha256}`, {
      expectedSha256: expected.sha256,
      sha256,
    })
  }
}
