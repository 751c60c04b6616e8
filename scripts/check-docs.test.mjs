// The docs check must pass on the repo as it is, and fail when the docs drift from the code.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const script = join(root, 'scripts', 'check-docs.mjs')
const run = (dir) => spawnSync(process.execPath, [script, dir], { encoding: 'utf8' })

/** A copy of the docs and package sources (no node_modules) that a test may break. */
function copyOfRepo() {
  const dir = mkdtempSync(join(tmpdir(), 'strata-check-docs-'))
  cpSync(join(root, 'docs'), join(dir, 'docs'), { recursive: true })
  cpSync(join(root, 'packages'), join(dir, 'packages'), {
    recursive: true,
    filter: (src) => !src.includes('node_modules') && !src.includes(`${'/'}dist`),
  })
  return dir
}

describe('check:docs', () => {
  const dirs = []
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
  const fresh = () => {
    const d = copyOfRepo()
    dirs.push(d)
    return d
  }
  const edit = (file, fn) => writeFileSync(file, fn(readFileSync(file, 'utf8')))

  it('passes on the repository as it is', () => {
    const r = run(root)
    assert.equal(r.status, 0, r.stderr)
  })

  it('fails when a package gains a dependency the architecture doc does not show', () => {
    const d = fresh()
    edit(join(d, 'packages/gateway/package.json'), (s) =>
      s.replace(
        '"type": "module"',
        '"type": "module", "dependencies": { "@strata/protocol": "0.1.0" }',
      ),
    )
    const r = run(d)
    assert.equal(r.status, 1)
    assert.match(
      r.stderr,
      /docs\/architecture.md says gateway depends on \[\], package.json says \[protocol\]/,
    )
  })

  it('fails on a dependency against the layer rule', () => {
    const d = fresh()
    edit(join(d, 'packages/protocol/package.json'), (s) =>
      s.replace('"dependencies": {', '"dependencies": { "@strata/cli": "0.1.0",'),
    )
    edit(join(d, 'docs/architecture.md'), (s) =>
      s.replace('| protocol | — |', '| protocol | cli |'),
    )
    const r = run(d)
    assert.equal(r.status, 1)
    assert.match(r.stderr, /protocol depends on cli, against the layer rule/)
  })

  it('fails when an error code is missing from docs/errors.md, or documented but gone', () => {
    const d = fresh()
    edit(join(d, 'docs/errors.md'), (s) =>
      s.replace(/^\| `PROTOCOL_ROLLBACK` .*\n/m, '').concat('| `PROTOCOL_GHOST` | x | y |\n'),
    )
    const r = run(d)
    assert.equal(r.status, 1)
    assert.match(r.stderr, /PROTOCOL_ROLLBACK is thrown by the code but missing/)
    assert.match(r.stderr, /docs\/errors.md lists PROTOCOL_GHOST/)
  })
})
