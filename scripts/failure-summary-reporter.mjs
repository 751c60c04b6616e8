// A reporter for Node's test runner that keeps quiet while the tests run and, at the end,
// writes one block per failed test: its file, its full name and its error. run-tests.mjs
// sends it to a file and prints that file after the TAP output, so the last screen of a long
// run (all that a CI log's tail shows) names what failed instead of only counting it.
import { relative } from 'node:path'
import { inspect } from 'node:util'

export default async function* failureSummary(source) {
  const failures = []
  // Names of the enclosing suites, by nesting depth, per file (files run side by side).
  const paths = new Map()
  for await (const event of source) {
    if (event.type === 'test:start') {
      const path = paths.get(event.data.file) ?? []
      paths.set(event.data.file, path)
      path.length = event.data.nesting
      path.push(event.data.name)
    } else if (event.type === 'test:fail') {
      const { name, nesting, file, details } = event.data
      const error = details?.error
      // A suite fails when a test in it fails; the test itself is already listed.
      if (error?.failureType === 'subtestsFailed') continue
      const path = paths.get(file) ?? []
      const names = [...path.slice(0, nesting), name].join(' › ')
      const cause = error?.cause ?? error
      const text =
        cause instanceof Error ? (cause.stack ?? cause.message) : inspect(cause, { depth: 4 })
      const where = file === undefined ? '(unknown file)' : relative(process.cwd(), file)
      failures.push(`✖ ${where}\n  ${names}\n${indent(text)}\n`)
    }
  }
  if (failures.length > 0) {
    yield `${failures.length} failed:\n\n${failures.join('\n')}`
  }
}

function indent(text) {
  return String(text)
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
}
