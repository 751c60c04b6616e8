#!/usr/bin/env node
// Fails when the docs and the code disagree:
//  1. the dependency table in docs/architecture.md vs the @strata/* dependencies in each
//     package.json, the imports in each package's sources, and its tsconfig references;
//  2. the layer rule of BRIEF §1 (cli → cloud/gateway/device → analytics/tsdb/mqtt → protocol);
//  3. the error codes in docs/errors.md vs the error registries (`…ErrorCodes = {…}`) in the code.
//
//   node scripts/check-docs.mjs [ROOT]
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url))
const problems = []
const read = (...p) => readFileSync(join(root, ...p), 'utf8')

/** Lower numbers are lower layers; a package may depend only on strictly lower layers. */
const layers = {
  protocol: 0,
  mqtt: 1,
  tsdb: 1,
  analytics: 1,
  cloud: 2,
  gateway: 2,
  device: 2,
  // The cloud serves the console's static build (it depends on the package to find it).
  console: 1,
  cli: 3,
}

function documentedGraph() {
  const doc = read('docs', 'architecture.md')
  const block = /<!-- dependency-table:start -->([\s\S]*?)<!-- dependency-table:end -->/.exec(doc)
  if (!block) {
    problems.push('docs/architecture.md has no <!-- dependency-table:start --> … end block')
    return new Map()
  }
  const graph = new Map()
  for (const line of block[1].split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    const name = /^`?(\w+)`?$/.exec(cells[1] ?? '')?.[1]
    if (!name || name === 'package') continue
    const deps = (cells[2] ?? '')
      .replace(/[`—-]/g, ' ')
      .split(/[\s,]+/)
      .filter(Boolean)
    graph.set(name, new Set(deps))
  }
  return graph
}

function sourceImports(pkg) {
  const dir = join(root, 'packages', pkg, 'src')
  if (!existsSync(dir)) return new Set()
  const found = new Set()
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !/\.(ts|tsx)$/.test(e.name)) continue
    for (const m of readFileSync(join(e.parentPath, e.name), 'utf8').matchAll(
      /from '@strata\/(\w+)/g,
    ))
      found.add(m[1])
  }
  return found
}

function checkGraph() {
  const documented = documentedGraph()
  const packages = readdirSync(join(root, 'packages')).filter((p) =>
    existsSync(join(root, 'packages', p, 'package.json')),
  )
  for (const pkg of packages) {
    const manifest = JSON.parse(read('packages', pkg, 'package.json'))
    const declared = new Set(
      Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })
        .filter((d) => d.startsWith('@strata/'))
        .map((d) => d.slice(8)),
    )
    const doc = documented.get(pkg)
    if (!doc) problems.push(`docs/architecture.md: the dependency table has no row for ${pkg}`)
    else if ([...doc].sort().join() !== [...declared].sort().join()) {
      problems.push(
        `docs/architecture.md says ${pkg} depends on [${[...doc].join(', ')}], package.json says [${[...declared].join(', ')}]`,
      )
    }
    for (const dep of declared) {
      if (!(layers[dep] < layers[pkg]))
        problems.push(`${pkg} depends on ${dep}, against the layer rule (BRIEF §1)`)
    }
    for (const imported of sourceImports(pkg)) {
      if (imported !== pkg && !declared.has(imported))
        problems.push(
          `packages/${pkg}/src imports @strata/${imported}, which its package.json does not declare`,
        )
    }
    const tsconfig = join(root, 'packages', pkg, 'tsconfig.json')
    if (existsSync(tsconfig)) {
      const refs = new Set(
        (JSON.parse(readFileSync(tsconfig, 'utf8')).references ?? []).map((r) =>
          r.path.replace('../', ''),
        ),
      )
      if ([...refs].sort().join() !== [...declared].sort().join()) {
        problems.push(
          `packages/${pkg}/tsconfig.json references [${[...refs].join(', ')}] but package.json declares [${[...declared].join(', ')}]`,
        )
      }
    }
  }
  for (const pkg of documented.keys())
    if (!packages.includes(pkg))
      problems.push(`docs/architecture.md lists ${pkg}, which is not a package`)
}

function codeErrorCodes() {
  const codes = new Set()
  const packages = join(root, 'packages')
  for (const e of readdirSync(packages, { recursive: true, withFileTypes: true })) {
    if (
      !e.isFile() ||
      !e.name.endsWith('.ts') ||
      e.name.endsWith('.test.ts') ||
      e.parentPath.includes('node_modules')
    )
      continue
    const text = readFileSync(join(e.parentPath, e.name), 'utf8')
    for (const block of text.matchAll(/export const \w+ErrorCodes = \{([\s\S]*?)\n\}/g)) {
      for (const m of block[1].matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)) codes.add(m[1])
    }
  }
  return codes
}

function checkErrors() {
  const documented = new Set(
    [...read('docs', 'errors.md').matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]),
  )
  const inCode = codeErrorCodes()
  for (const code of inCode)
    if (!documented.has(code))
      problems.push(`error code ${code} is thrown by the code but missing from docs/errors.md`)
  for (const code of documented)
    if (!inCode.has(code))
      problems.push(`docs/errors.md lists ${code}, which no error registry defines`)
}

checkGraph()
checkErrors()
if (problems.length > 0) {
  console.error(
    `check:docs found ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  )
  console.error(
    'hint: update docs/architecture.md or docs/errors.md in the same change as the code.',
  )
  process.exit(1)
}
console.log('check:docs: the dependency graph and the error codes match the docs')
