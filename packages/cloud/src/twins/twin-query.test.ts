import assert from 'node:assert/strict'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { parseTwinQuery, twinQuerySql } from './twin-query.js'

const rows: [string, unknown][] = [
  ['a', { fw: '2.1', n: 30, on: true, cfg: { mode: 'eco' } }],
  ['b', { fw: 2.1, n: 60, on: false, cfg: null }],
  ['c', { fw: '2.0', n: '90', note: 'x,y' }],
  ['d', {}],
]

function matching(query: string): string[] {
  const db = new Database(':memory:')
  try {
    db.exec('CREATE TABLE t (id TEXT, reported TEXT)')
    const insert = db.prepare('INSERT INTO t VALUES (?, ?)')
    for (const [id, doc] of rows) insert.run(id, JSON.stringify(doc))
    const { sql, params } = twinQuerySql(parseTwinQuery(query), {
      reported: 'reported',
      desired: "'{}'",
      attributes: "'{}'",
    })
    return db
      .prepare(`SELECT id FROM t WHERE ${sql} ORDER BY id`)
      .pluck()
      .all(...params) as string[]
  } finally {
    db.close()
  }
}

test('compares JSON values by type: an unquoted number also finds its text', () => {
  assert.deepEqual(matching('reported.fw=2.1'), ['a', 'b'])
  assert.deepEqual(matching('reported.fw="2.1"'), ['a'])
  assert.deepEqual(matching('reported.fw!=2.1'), ['c', 'd'])
  assert.deepEqual(matching('reported.n>=60'), ['b'])
  assert.deepEqual(matching('reported.n<"91"'), ['c'])
  assert.deepEqual(matching('reported.on=true'), ['a'])
  assert.deepEqual(matching('reported.on=false'), ['b'])
  assert.deepEqual(matching('reported.cfg=null'), ['b'])
  assert.deepEqual(matching('reported.cfg.mode=eco'), ['a'])
  assert.deepEqual(matching('reported.note="x,y",reported.fw=2.0'), ['c'])
  assert.deepEqual(matching('reported.fw,!reported.on'), ['c'])
  assert.deepEqual(matching('!reported.fw'), ['d'])
})

test('refuses what is not a term, naming the field', () => {
  for (const bad of [
    '',
    'fw=1',
    'reported=1',
    'reported..x=1',
    'reported.a"b=1',
    'reported.x>true',
    'reported.x<null',
    '!reported.x=1',
    'reported.x="unterminated',
    Array.from({ length: 17 }, () => 'reported.a').join(','),
    `reported.x=${'v'.repeat(3000)}`,
  ]) {
    assert.throws(
      () => parseTwinQuery(bad),
      (err: { code?: string; details?: { field?: string } }) =>
        err.code === 'CLOUD_INVALID' && err.details?.field === 'where',
      bad.slice(0, 40),
    )
  }
})
