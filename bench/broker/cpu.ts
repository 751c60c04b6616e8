// Resource figures of a broker process from /proc (Linux only): CPU time (utime + stime of all its
// threads, see proc(5)) and resident memory (VmRSS now, VmHWM the peak since it started).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** One reading of a process's counters. */
export interface ProcSample {
  /** utime + stime in seconds, all threads of the process. */
  readonly cpuS: number
  readonly rssBytes: number
  /** Peak resident set size since the process started. */
  readonly hwmBytes: number
  /** performance.now() when read. */
  readonly atMs: number
}

/** Clock ticks per second used by /proc/PID/stat (`getconf CLK_TCK`, 100 on nearly every Linux). */
export function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100
  } catch {
    return 100
  }
}

/** utime + stime of `pid` in seconds. */
export function readCpuSeconds(pid: number, ticksPerS: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8')
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  // Fields from there on start at field 3 (state); utime is field 14 and stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`cannot read utime/stime from /proc/${String(pid)}/stat`)
  }
  return (utime + stime) / ticksPerS
}

function readStatusKib(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)
  if (match?.[1] === undefined) throw new Error(`no ${key} in /proc status`)
  return Number(match[1])
}

/** Reads CPU time and memory of `pid` now. */
export function sampleProc(pid: number, ticksPerS: number): ProcSample {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8')
  return {
    cpuS: readCpuSeconds(pid, ticksPerS),
    rssBytes: readStatusKib(status, 'VmRSS') * 1024,
    hwmBytes: readStatusKib(status, 'VmHWM') * 1024,
    atMs: performance.now(),
  }
}

/** The soft limit on open files of this process, from /proc/self/limits. */
export function readOpenFilesLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8')
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits)
  const value = match?.[1]
  if (value === undefined) return 1024
  return value === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(value)
}
