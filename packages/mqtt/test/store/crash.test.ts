// kill -9 at a random moment loses no write whose flush resolved (synchronous = NORMAL, WAL).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { openSqliteSessionStore, type StoredSession } from '../../src/store/index.js'

const root = fileURLToPath(new URL('../../../..', import.meta.url))
const child = fileURLToPath(new URL('./crash-child.ts', import.meta.url))
let dir = ''
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-store-crash-'))
})
after(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

/** Runs the child until it has acknowledged `acks` batches, then SIGKILLs it a little later. */
async function runAndKill(file: string, acks: number): Promise<string[]> {
  const proc = spawn(
    process.execPath,
    ['--conditions=strata-source', '--import', 'tsx', child, file],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const lines: string[] = []
  let batches = 0
  let partial = ''
  let stderr = ''
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  proc.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString()
    const parts = text.split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
    if (++batches === acks) setTimeout(() => proc.kill('SIGKILL'), Math.random() * 15)
  })
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    proc.on('close', (c, s) => resolve([c, s])),
  )
  assert.equal(signal, 'SIGKILL', `child exited with ${String(code)}: ${stderr}`)
  return lines
}

/**
 * Checks a reopened store against what the children acknowledged. A child also deletes crash-a's
 * entry `seq - 30` in the transaction that puts `seq` (seq divisible by 3), and may be killed after
 * that commit but before printing it: so crash-a's entry k is gone exactly when crash-b has k + 30.
 */
function check(sessions: readonly StoredSession[], puts: Set<string>, dels: Set<string>): void {
  const seqs = (id: string) =>
    new Set(sessions.find((s) => s.clientId === id)?.outgoing.map((e) => e.seq))
  const [a, b] = [seqs('crash-a'), seqs('crash-b')]
  assert.ok(puts.size > 0)
  for (const key of puts) {
    const [client, text] = key.split(' ')
    const seq = Number(text)
    if (client === 'crash-b') assert.ok(b.has(seq), `lost ${key}`)
    else if (seq % 3 === 0 && b.has(seq + 30)) assert.ok(!a.has(seq), `${key} not deleted`)
    else assert.ok(a.has(seq), `lost ${key}`)
  }
  for (const key of dels) assert.ok(!a.has(Number(key.split(' ')[1])), `deleted ${key} came back`)
}

/** Kills a child writing to `file` `rounds` times, checking after each kill what it acknowledged. */
async function lane(file: string, rounds: number): Promise<void> {
  const puts = new Set<string>()
  const dels = new Set<string>()
  for (let round = 0; round < rounds; round++) {
    for (const line of await runAndKill(file, 1 + Math.floor(Math.random() * 20))) {
      const [kind, client, seq] = line.split(' ')
      ;(kind === 'put' ? puts : dels).add(`${client ?? ''} ${seq ?? ''}`)
    }
    const store = openSqliteSessionStore({ path: file })
    try {
      check((await store.load()).sessions, puts, dels)
    } finally {
      await store.close()
    }
  }
}

it('keeps every acknowledged write across kill -9 at random moments', async () => {
  // Two files in parallel, each killed twice: the second child resumes a file left by a kill.
  // Parallel because each child spends most of its life starting (tsx, @strata/protocol).
  await Promise.all([0, 1].map((n) => lane(path.join(dir, `sessions-${String(n)}.db`), 2)))
})
