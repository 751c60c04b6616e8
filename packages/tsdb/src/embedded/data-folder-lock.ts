import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { TsdbError } from '../errors.js'

/**
 * Claims a data folder for this process with a lock file holding its pid. A lock left by a
 * process that no longer runs (killed, power cut) is taken over.
 */
export function lockDataFolder(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => {
        try {
          unlinkSync(path)
        } catch {
          // already gone
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new TsdbError('TSDB_IO', `cannot create ${path}: ${(err as Error).message}`, {
          cause: err,
        })
      }
      const pid = Number(readFileSync(path, 'utf8'))
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
        throw new TsdbError('TSDB_LOCKED', `the data folder is in use by process ${String(pid)}`, {
          hint: 'Stop the other Strata process, or use another data folder.',
        })
      }
      if (pid === process.pid) {
        throw new TsdbError('TSDB_LOCKED', 'the data folder is already open in this process', {
          hint: 'Close the other store first.',
        })
      }
      unlinkSync(path)
    }
  }
  throw new TsdbError('TSDB_LOCKED', `cannot lock ${path}`)
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
