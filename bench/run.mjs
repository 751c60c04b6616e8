#!/usr/bin/env node
// `npm run bench -- NAME [--quick] [...]`: runs bench/NAME/main.ts in a child Node process with
// the source condition and tsx, after raising the soft open-files limit to the hard one (the
// broker benchmark holds thousands of sockets; a shell's `ulimit -n` is often 1024).
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { constants } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const benchDir = dirname(fileURLToPath(import.meta.url))
const repoRoot = dirname(benchDir)

function availableBenchmarks() {
  return readdirSync(benchDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(benchDir, d.name, 'main.ts')))
    .map((d) => d.name)
    .sort()
}

const [name, ...rest] = process.argv.slice(2)
const available = availableBenchmarks()
if (name === undefined || !available.includes(name)) {
  const what = name === undefined ? 'no benchmark given' : `unknown benchmark "${name}"`
  process.stderr.write(
    `bench: ${what}; available: ${available.join(', ')}\n` +
      'usage: npm run bench -- NAME [--quick] [options]   (NAME --help lists the options)\n',
  )
  process.exit(2)
}

// `ulimit -n` cannot exceed the hard limit without privileges; failing to raise it is not fatal,
// the benchmark reads its own limit and reports the cap it ran under.
const raiseFdLimit = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"'
const nodeArgs = ['--conditions=strata-source', '--import', 'tsx', join(benchDir, name, 'main.ts')]
const child = spawn('/bin/sh', ['-c', raiseFdLimit, 'sh', process.execPath, ...nodeArgs, ...rest], {
  cwd: repoRoot,
  stdio: 'inherit',
})

// Ctrl-C reaches the whole foreground process group; the child cleans up its brokers and exits.
// A signal sent to this process alone is forwarded so the child can do the same.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal)
  })
}
child.on('error', (err) => {
  process.stderr.write(`bench: cannot start ${name}: ${err.message}\n`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === null ? 1 : 128 + (constants.signals[signal] ?? 0)))
})
