import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { ProtocolError } from '../errors/protocol-error.js'
import type { FirmwareManifest } from './manifest.js'
import { verifyImage } from './verify-image.js'

const image = new Uint8Array(randomBytes(300_000))
const delta = new Uint8Array(randomBytes(1_000))
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const manifest: FirmwareManifest = {
  schemaVersion: 1,
  product: 'acme-sensor',
  version: '3.0.0',
  securityVersion: 1,
  hardware: ['rev-a'],
  image: { sha256: sha256(image), size: image.length },
  delta: {
    baseVersion: '2.9.0',
    baseSha256: '00'.repeat(32),
    sha256: sha256(delta),
    size: delta.length,
  },
  issuedAt: 0,
}

function isInvalid(pattern: RegExp): (err: unknown) => boolean {
  return (err) =>
    err instanceof ProtocolError && err.code === 'PROTOCOL_INVALID' && pattern.test(err.message)
}

/** Yields `bytes` in chunks, counting how many bytes were pulled. */
// eslint-disable-next-line @typescript-eslint/require-await -- an async source, as a network download is
async function* chunks(
  bytes: Uint8Array,
  size: number,
  pulled = { bytes: 0 },
): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) {
    const chunk = bytes.subarray(i, i + size)
    pulled.bytes += chunk.length
    yield chunk
  }
}

describe('verifyImage', () => {
  it('accepts the exact image, whole or streamed', async () => {
    await verifyImage(manifest, image)
    await verifyImage(manifest, chunks(image, 4096))
    await verifyImage(
      manifest,
      Readable.from([Buffer.from(image.subarray(0, 7)), Buffer.from(image.subarray(7))]),
    )
    await verifyImage(manifest, delta, { part: 'delta' })
  })

  it('rejects a flipped byte by its hash', async () => {
    const tampered = new Uint8Array(image)
    tampered[150_000] = (tampered[150_000] ?? 0) ^ 1
    await assert.rejects(verifyImage(manifest, tampered), isInvalid(/SHA-256/))
    await assert.rejects(verifyImage(manifest, chunks(tampered, 65_536)), isInvalid(/SHA-256/))
  })

  it('rejects a short or long image by its size', async () => {
    await assert.rejects(verifyImage(manifest, image.subarray(1)), isInvalid(/299999 bytes/))
    await assert.rejects(
      verifyImage(manifest, chunks(image.subarray(1), 4096)),
      isInvalid(/299999 bytes/),
    )
    await assert.rejects(
      verifyImage(manifest, new Uint8Array([...image, 0])),
      isInvalid(/300001 bytes/),
    )
  })

  it('stops reading a stream at the first chunk past the expected size', async () => {
    const endless = new Uint8Array(10 * image.length)
    const pulled = { bytes: 0 }
    await assert.rejects(
      verifyImage(manifest, chunks(endless, 65_536, pulled)),
      isInvalid(/longer than/),
    )
    assert.ok(pulled.bytes <= image.length + 65_536, `pulled ${String(pulled.bytes)} bytes`)
  })

  it('rejects the wrong part, a missing delta and non-byte chunks', async () => {
    await assert.rejects(verifyImage(manifest, image, { part: 'delta' }), isInvalid(/bytes/))
    const { delta: _unused, ...noDelta } = manifest
    await assert.rejects(verifyImage(noDelta, delta, { part: 'delta' }), isInvalid(/no delta/))
    await assert.rejects(verifyImage(manifest, Readable.from(['text'])), isInvalid(/not bytes/))
  })

  it('stops when aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    await assert.rejects(
      verifyImage(manifest, chunks(image, 4096), { signal: controller.signal }),
      { name: 'AbortError' },
    )
  })
})
