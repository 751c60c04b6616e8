import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { IdentityError } from './identity-error.js'

/** The files of a CA folder (docs/formats/ca-layout.md). */
export const caFiles = {
  rootCert: 'root.crt',
  /** Absent while the root is offline. */
  rootKey: 'root.key',
  rootCrl: 'root.crl',
  intermediateCert: 'intermediate.crt',
  intermediateKey: 'intermediate.key',
  /** The intermediate before the last renewal, kept while certificates it issued are valid. */
  previousCert: 'intermediate-previous.crt',
  previousKey: 'intermediate-previous.key',
} as const

export const keyFileMode = 0o600
export const publicFileMode = 0o644
export const caDirMode = 0o700

/** Writes a file by temp file + fsync + rename + directory fsync: readers see old or new, whole. */
export async function writeFileAtomic(
  dir: string,
  name: string,
  data: string,
  mode: number,
): Promise<void> {
  const path = join(dir, name)
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const file = await open(tmp, 'wx', mode)
    try {
      await file.writeFile(data)
      await file.chmod(mode) // the umask may have narrowed `mode`; set it exactly
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(tmp, path)
    await syncDir(dir)
  } catch (err) {
    await rm(tmp, { force: true })
    throw ioError(`cannot write ${path}`, err)
  }
}

/** fsync a directory so a rename in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** The text of `dir/name`, or undefined when it does not exist. */
export async function readOptional(dir: string, name: string): Promise<string | undefined> {
  const path = join(dir, name)
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw ioError(`cannot read ${path}`, err)
  }
}

/** Creates `dir` (and its parents) with mode 0700 when missing. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: caDirMode })
  } catch (err) {
    throw ioError(`cannot create ${dir}`, err)
  }
}

export function ioError(message: string, cause: unknown): IdentityError {
  return new IdentityError('CLOUD_CA_IO', message, {
    hint: 'Check that the CA folder exists, is writable by this user and the disk is not full.',
    retryable: true,
    cause,
  })
}

export function corrupt(dir: string, name: string, reason: string, cause?: unknown): IdentityError {
  return new IdentityError('CLOUD_CA_CORRUPT', `${join(dir, name)} ${reason}`, {
    hint: 'Restore the CA folder from a backup; a new CA would make every issued certificate untrusted.',
    details: { file: name },
    ...(cause === undefined ? {} : { cause }),
  })
}
