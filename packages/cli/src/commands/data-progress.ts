import cliProgress from 'cli-progress'
import type { Output } from '../output.js'

/** Progress of a long verb: bytes of its input done, and points per second. */
export interface Progress {
  update(bytesRead: number, points: number): void
  stop(): void
}

const silent: Progress = { update: () => undefined, stop: () => undefined }

/** True when a stream is a terminal (a pipe, a file or a test's buffer is not). */
export function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true
}

/**
 * A progress bar on stderr when it is a terminal and the output is not `--json`; otherwise
 * nothing at all, so piped and scripted runs stay quiet (BRIEF §3).
 */
export function createProgress(out: Output, totalBytes: number, json: boolean): Progress {
  if (json || !isTty(out.stderr)) return silent
  const started = Date.now()
  const bar = new cliProgress.SingleBar(
    {
      stream: out.stderr,
      format: '{bar} {percentage}% | {done} of {size} | {rate} points/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  )
  const size = formatBytes(totalBytes)
  bar.start(Math.max(totalBytes, 1), 0, { done: formatBytes(0), size, rate: '0' })
  return {
    update(bytesRead, points) {
      const seconds = (Date.now() - started) / 1000
      const rate = seconds > 0 ? Math.round(points / seconds).toLocaleString('en') : '0'
      bar.update(Math.min(bytesRead, Math.max(totalBytes, 1)), {
        done: formatBytes(bytesRead),
        size,
        rate,
      })
    },
    stop() {
      bar.stop()
    },
  }
}

/** `512 B`, `3.4 MB`, `1.2 GB` (powers of 1,000, as disks are sold). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${String(bytes)} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes / 1000
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toFixed(1)} ${units[unit] ?? ''}`
}
