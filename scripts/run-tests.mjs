#!/usr/bin/env node
// Runs every test of every part: unit tests beside the code (packages/*/src/**/*.test.ts) and
// integration tests (packages/*/test/**/*.test.ts), and the repo's own checks
// (scripts/*.test.mjs), in parallel files, with Node's test runner.
// Node 20's --test expands no globs, so the file list is built here.
//
//   node scripts/run-tests.mjs                 every test
//   node scripts/run-tests.mjs protocol cli    the tests of those parts only
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const only = process.argv.slice(2)

function testFiles(dir, suffix = '.test.ts') {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix) && !e.parentPath.includes('node_modules'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
}

const parts = readdirSync(join(root, 'packages')).filter(
  (p) => only.length === 0 || only.includes(p),
)
const files = parts
  .flatMap((p) => [
    ...testFiles(join(root, 'packages', p, 'src')),
    ...testFiles(join(root, 'packages', p, 'test')),
  ])
  .sort()
const scripts = only.length === 0 ? testFiles(join(root, 'scripts'), '.test.mjs') : []
const all = [...files, ...scripts]
if (all.length === 0) {
  console.error(`no test files found${only.length > 0 ? ` for ${only.join(', ')}` : ''}`)
  process.exit(1)
}

const concurrency = Math.max(2, availableParallelism())
// The usual report on stdout (spec on a terminal, TAP otherwise, as Node picks by itself), and
// a summary of the failures written to a file, printed last so that a log's tail names them.
const summaryDir = mkdtempSync(join(tmpdir(), 'strata-tests-'))
const summaryFile = join(summaryDir, 'failures.txt')
const args = [
  '--conditions=strata-source',
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
  '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'scripts', 'failure-summary-reporter.mjs')}`,
  `--test-reporter-destination=${summaryFile}`,
  ...all,
]
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' })
child.on('exit', (code, signal) => {
  const summary = existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8') : ''
  rmSync(summaryDir, { recursive: true, force: true })
  if (summary.trim() !== '') process.stdout.write(`\n=== ${summary}`)
  process.exit(signal === null ? (code ?? 1) : 1)
})
