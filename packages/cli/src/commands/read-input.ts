import { open } from 'node:fs/promises'
import { CliError } from '../errors.js'

/** Inputs larger than this are refused before reading: no payload the protocol accepts comes close. */
const maxInputBytes = 64 * 1024 * 1024

/** Reads a file named on the command line, or standard input for `-`, as bytes. */
export async function readInput(
  file: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<Uint8Array> {
  if (file === '-') return readStream(stdin)
  try {
    const handle = await open(file, 'r')
    try {
      const { size } = await handle.stat()
      if (size > maxInputBytes) {
        throw new CliError(
          'CLI_FILE_UNREADABLE',
          `${file} is ${String(size)} bytes, over the ${String(maxInputBytes)} this command reads`,
        )
      }
      return await handle.readFile()
    } finally {
      await handle.close()
    }
  } catch (cause) {
    if (cause instanceof CliError) throw cause
    const reason = cause instanceof Error && 'code' in cause ? String(cause.code) : String(cause)
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${file}: ${reason}`, {
      hint: 'Check the path and its permissions; use - to read standard input.',
      cause,
    })
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    total += buffer.length
    if (total > maxInputBytes)
      throw new CliError(
        'CLI_FILE_UNREADABLE',
        `standard input exceeds ${String(maxInputBytes)} bytes`,
      )
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}
