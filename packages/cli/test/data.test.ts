import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, describe, it } from 'node:test'
import { runCli } from '../src/index.js'
import { parseDuration, parseTimeFlag } from '../src/commands/data-time.js'

// `strata data …` in-process, against real data folders in a temp directory.
const root = mkdtempSync(join(tmpdir(), 'strata-data-cli-'))
after(() => rmSync(root, { recursive: true, force: true }))

let folders = 0
/** A fresh data folder path (created by the first import). */
const folder = () => join(root, `data-${String(++folders)}`)
const file = (name: string, text: string) => {
  const path = join(root, name)
  writeFileSync(path, text)
  return path
}

function capture(tty = false): { stream: Writable; text: () => string } {
  let text = ''
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString()
      done()
    },
  })
  if (tty) Object.assign(stream, { isTTY: true, columns: 120 })
  return { stream, text: () => text }
}

async function strata(args: string[], options: { ttyStderr?: boolean } = {}) {
  const stdout = capture()
  const stderr = capture(options.ttyStderr === true)
  const code = await runCli(args, { stdout: stdout.stream, stderr: stderr.stream })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

async function json<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const r = await strata([...args, '--json'])
  assert.equal(r.code, 0, r.stderr + r.stdout)
  return JSON.parse(r.stdout) as T
}

interface RawPage {
  series: {
    key: { device: string; metric: string; tags: Record<string, string> }
    type: string
    times: number[]
    values: unknown[]
  }[]
  cursor: string | null
}

const now = Date.now()
const minute = 60_000
const hour = 3_600_000
/** An hour boundary 1-2 hours ago: inside the default query range, aligned to any bucket. */
const t0 = Math.floor(now / hour) * hour - hour

describe('strata data import', () => {
  it('imports CSV with device, metric, tags, ISO and epoch timestamps, and every value type', async () => {
    const data = folder()
    const csv = file(
      'shape4.csv',
      [
        'device,metric,timestamp,value,tags',
        `pump-1,temp,${String(t0)},21.5,site=north;line=a`,
        `pump-1,temp,${new Date(t0 + minute).toISOString()},22,site=north;line=a`,
        `pump-1,restarts,${String(t0)},3i,`,
        `pump-1,door,${String(t0)},true,`,
        `pump-1,mode,${String(t0)},"eco, quiet",`,
        `pump-1,note,${String(t0)},"",`,
        '',
      ].join('\r\n'),
    )
    const summary = await json<{ ok: boolean; points: number; series: number; format: string }>([
      'data',
      'import',
      csv,
      '--data',
      data,
    ])
    assert.deepEqual(
      [summary.ok, summary.points, summary.series, summary.format],
      [true, 6, 5, 'csv'],
    )
    const temp = await json<RawPage>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--from',
      '0',
    ])
    assert.deepEqual(temp.series[0]?.key.tags, { line: 'a', site: 'north' })
    assert.deepEqual(temp.series[0].times, [t0, t0 + minute])
    assert.deepEqual(temp.series[0].values, [21.5, 22])
    const values = async (metric: string) =>
      (await json<RawPage>(['data', 'query', '--data', data, '--metric', metric, '--from', '0']))
        .series[0]
    assert.deepEqual((await values('restarts'))?.values, ['3'])
    assert.equal((await values('restarts'))?.type, 'int')
    assert.deepEqual((await values('door'))?.values, [true])
    assert.deepEqual((await values('mode'))?.values, ['eco, quiet'])
    assert.deepEqual((await values('note'))?.values, [''])
  })

  it('imports a timestamp,value CSV into the series named by --series, in --precision units', async () => {
    const data = folder()
    const seconds = Math.floor(t0 / 1000)
    const csv = file(
      'shape2.csv',
      `timestamp,value\n${String(seconds)},1.5\n${String(seconds + 60)},2.5\n`,
    )
    const r = await strata([
      'data',
      'import',
      csv,
      '--data',
      data,
      '--series',
      'pump-7/temperature',
      '--precision',
      's',
      '--tenant',
      'acme',
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.match(
      r.stdout,
      /^imported 2 points into 1 series from .*shape2\.csv in [\d.]+ s \([\d,]+ points\/s\)\n$/,
    )
    const page = await json<RawPage>([
      'data',
      'query',
      '--data',
      data,
      '--tenant',
      'acme',
      '--device',
      'pump-7',
      '--metric',
      'temperature',
      '--from',
      '0',
    ])
    assert.deepEqual(page.series[0]?.times, [seconds * 1000, (seconds + 60) * 1000])
    const missing = await strata(['data', 'import', csv, '--data', data])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /needs --series DEVICE\/METRIC/)
  })

  it('imports line protocol: measurement.field metrics, the device tag, ns timestamps, strings over lines', async () => {
    const data = folder()
    const ns = (ms: number) => `${String(ms)}000123`
    const lp = file(
      'points.lp',
      [
        '# a comment',
        `env,device=pump-1,site=north temp=21.5,restarts=3i,big=7u,ok=t,mode="eco\nplus" ${ns(t0)}`,
        '',
        `env,device=pump-1,site=north temp=22 ${ns(t0 + minute)}`,
        'env,site=south temp=5',
      ].join('\n'),
    )
    const r = await strata(['data', 'import', lp, '--data', data, '--device', 'fallback', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    assert.equal((JSON.parse(r.stdout) as { points: number }).points, 7)
    const temp = await json<RawPage>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'env.temp',
      '--device',
      'pump-1',
      '--from',
      '0',
    ])
    assert.deepEqual(temp.series[0]?.key.tags, { site: 'north' })
    assert.deepEqual(temp.series[0].times, [t0, t0 + minute])
    const mode = await json<RawPage>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'env.mode',
      '--from',
      '0',
    ])
    assert.deepEqual(mode.series[0]?.values, ['eco\nplus'])
    const big = await json<RawPage>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'env.big',
      '--from',
      '0',
    ])
    assert.deepEqual([big.series[0]?.type, big.series[0]?.values], ['int', ['7']])
    // The line without a timestamp was stamped with the time of the import.
    const latest = await json<{ values: { key: { device: string }; time: number }[] }>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'env.temp',
      '--device',
      'fallback',
      '--latest',
    ])
    assert.equal(latest.values[0]?.key.device, 'fallback')
    assert.ok(Math.abs(latest.values[0].time - Date.now()) < 60_000)
  })

  it('takes the device from the tag named by --device-tag', async () => {
    const data = folder()
    const lp = file('host.line', `cpu,host=web-1,core=0 usage=0.5 ${String(t0)}\n`)
    const r = await strata([
      'data',
      'import',
      lp,
      '--data',
      data,
      '--device-tag',
      'host',
      '--precision',
      'ms',
    ])
    assert.equal(r.code, 0, r.stderr)
    const page = await json<RawPage>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'cpu.usage',
      '--device',
      'web-1',
      '--from',
      '0',
    ])
    assert.deepEqual(page.series[0]?.key.tags, { core: '0' })
    assert.deepEqual(page.series[0].times, [t0])
  })
})

describe('strata data import errors', () => {
  it('names the file and line of a bad CSV line and imports nothing of its batch', async () => {
    const data = folder()
    const csv = file('bad.csv', `timestamp,value\n${String(t0)},1\n${String(t0 + 1)},2\nsoon,3\n`)
    const r = await strata(['data', 'import', csv, '--data', data, '--series', 'd/m'])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /^error PROTOCOL_INVALID: .*bad\.csv line 4: timestamp "soon" is neither an integer \(ms\) nor ISO 8601; nothing was imported\nhint: /,
    )
    const stats = await json<{ points: number }>(['data', 'stats', '--data', data])
    assert.equal(stats.points, 0)
    const quote = await strata([
      'data',
      'import',
      file('quote.csv', 'timestamp,value\n1,"x"y\n'),
      '--data',
      data,
      '--series',
      'd/m',
      '--json',
    ])
    assert.equal(quote.code, 1)
    const body = JSON.parse(quote.stdout) as {
      error: { code: string; message: string; details: { line: number } }
    }
    assert.equal(body.error.code, 'PROTOCOL_MALFORMED')
    assert.equal(body.error.details.line, 2)
    const mixed = await strata([
      'data',
      'import',
      file('mixed.csv', `timestamp,value\n${String(t0)},1\n${String(t0 + 1)},on\n`),
      '--data',
      data,
      '--series',
      'd/m2',
    ])
    assert.match(
      mixed.stderr,
      /TSDB_TYPE_MISMATCH: .*mixed\.csv line 3: default\/d\/m2 got a string value after float values/,
    )
    // A batch the store refuses (the series holds floats from an earlier import) names its lines.
    const first = await strata([
      'data',
      'import',
      file('first.csv', `timestamp,value\n${String(t0)},1\n`),
      '--data',
      data,
      '--series',
      'd/m3',
    ])
    assert.equal(first.code, 0, first.stderr)
    const later = await strata([
      'data',
      'import',
      file('later.csv', `timestamp,value\n${String(t0 + 1)},1i\n${String(t0 + 2)},2i\n`),
      '--data',
      data,
      '--series',
      'd/m3',
    ])
    assert.equal(later.code, 1)
    assert.match(
      later.stderr,
      /TSDB_TYPE_MISMATCH: .*later\.csv lines 2-3: .*holds float values, not int; nothing was imported/,
    )
  })

  it('gives the absolute line past the first chunk and counts the batches already imported', async () => {
    const data = folder()
    const lines = Array.from(
      { length: 60_000 },
      (_, i) => `m,device=d v=${String(i)} ${String(t0 - 60_000_000 + i * 1000)}`,
    )
    lines[55_000] = 'm,device=d v=oops'
    const r = await strata([
      'data',
      'import',
      file('big.lp', `${lines.join('\n')}\n`),
      '--data',
      data,
      '--precision',
      'ms',
    ])
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /PROTOCOL_LINE_SYNTAX: .*big\.lp line 55001, column 14: .*; 50,000 points from lines 1-50000 were imported, nothing after line 50000\n/,
    )
    assert.match(r.stderr, /hint: .*run the same import again.*idempotent/)
    const stats = await json<{ points: number }>(['data', 'stats', '--data', data])
    assert.equal(stats.points, 50_000)
    // Fixed, the same import runs again and nothing is doubled.
    lines[55_000] = `m,device=d v=55000 ${String(t0 - 60_000_000 + 55_000 * 1000)}`
    const again = await strata([
      'data',
      'import',
      file('big.lp', `${lines.join('\n')}\n`),
      '--data',
      data,
      '--precision',
      'ms',
    ])
    assert.equal(again.code, 0, again.stderr)
    assert.equal((await json<{ points: number }>(['data', 'stats', '--data', data])).points, 60_000)
  })

  it('refuses line protocol without a device and unsigned values over int64', async () => {
    const data = folder()
    const noDevice = await strata([
      'data',
      'import',
      file('nodev.lp', `m,device=a v=1\nm v=2\n`),
      '--data',
      data,
    ])
    assert.equal(noDevice.code, 1)
    assert.match(
      noDevice.stderr,
      /nodev\.lp line 2: the point has no device tag.*\nhint: .*--device-tag.*--device/,
    )
    const huge = await strata([
      'data',
      'import',
      file('huge.lp', 'm,device=a v=18446744073709551615u\n'),
      '--data',
      data,
    ])
    assert.match(
      huge.stderr,
      /PROTOCOL_UNSUPPORTED: .*huge\.lp line 1: field m\.v: unsigned 18446744073709551615 exceeds int64/,
    )
  })

  it('explains a missing file, an unknown format and a missing store', async () => {
    const missing = await strata(['data', 'import', join(root, 'nope.csv'), '--data', folder()])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /CLI_FILE_UNREADABLE: cannot read .*nope\.csv: ENOENT/)
    const unknown = await strata(['data', 'import', file('x.dat', ''), '--data', folder()])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /hint: Pass --format csv or lp/)
    const nostore = await strata(['data', 'stats', '--data', join(root, 'no-store')])
    assert.equal(nostore.code, 1)
    assert.match(nostore.stderr, /CLI_FILE_UNREADABLE: there is no Strata data store in/)
  })
})

describe('strata data export', () => {
  const source = folder()
  const seed = async () => {
    const csv = file(
      'seed.csv',
      [
        'device,metric,tags,timestamp,value',
        `pump-1,env.temp,site=north,${String(t0)},21.5`,
        `pump-1,env.temp,site=north,${String(t0 + minute)},-0.25`,
        `pump-1,env.count,,${String(t0)},-9223372036854775808i`,
        `pump-2,env.ok,"a\\;b=c\\=d",${String(t0)},false`,
        `pump-2,env.mode,,${String(t0)},"say ""hi"", then
leave"`,
        `pump-2,env.blank,,${String(t0)},""`,
      ].join('\n'),
    )
    const r = await strata(['data', 'import', csv, '--data', source])
    assert.equal(r.code, 0, r.stderr)
  }

  it('round-trips through CSV: export, import elsewhere, export again gives the same file', async () => {
    await seed()
    const first = join(root, 'export-1.csv')
    const r = await strata(['data', 'export', '--data', source, '--output', first, '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual((JSON.parse(r.stdout) as { points: number; series: number }).points, 6)
    const text = readFileSync(first, 'utf8')
    assert.match(text, /^device,metric,tags,timestamp,value\n/)
    assert.match(text, /pump-2,env\.ok,a\\;b=c\\=d,\d+,false\n/)
    const copy = folder()
    assert.equal((await strata(['data', 'import', first, '--data', copy])).code, 0)
    const second = await strata(['data', 'export', '--data', copy])
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.stdout, text)
  })

  it('round-trips through line protocol in ns', async () => {
    const r = await strata(['data', 'export', '--data', source, '--format', 'lp'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(
      r.stdout,
      new RegExp(`^env,device=pump-1 count=-9223372036854775808i ${String(t0)}000000$`, 'm'),
    )
    assert.match(r.stdout, /^env,device=pump-1,site=north temp=-0\.25 \d+000000$/m)
    const lp = file('export.lp', r.stdout)
    const copy = folder()
    const imported = await strata(['data', 'import', lp, '--data', copy])
    assert.equal(imported.code, 0, imported.stderr)
    const again = await strata(['data', 'export', '--data', copy, '--format', 'lp'])
    assert.equal(again.stdout, r.stdout)
    const csvA = await strata(['data', 'export', '--data', source])
    const csvB = await strata(['data', 'export', '--data', copy])
    assert.equal(csvB.stdout, csvA.stdout)
  })

  it('selects by device, metric and time', async () => {
    const r = await strata([
      'data',
      'export',
      '--data',
      source,
      '--device',
      'pump-1',
      '--metric',
      'env.temp',
      '--from',
      String(t0 + 1),
      '--to',
      'now',
    ])
    assert.equal(
      r.stdout,
      `device,metric,tags,timestamp,value\npump-1,env.temp,site=north,${String(t0 + minute)},-0.25\n`,
    )
  })
})

describe('strata data query and stats', () => {
  const data = folder()
  const load = async () => {
    const rows = ['device,metric,tags,timestamp,value']
    for (let i = 0; i < 10; i++) {
      rows.push(`a,temp,site=n,${String(t0 + i * minute)},${String(i)}`)
      rows.push(`b,temp,site=s,${String(t0 + i * minute)},${String(i * 10)}`)
    }
    assert.equal(
      (await strata(['data', 'import', file('q.csv', rows.join('\n')), '--data', data])).code,
      0,
    )
  }

  it('pages raw points with --limit and --cursor', async () => {
    await load()
    const first = await json<RawPage>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--limit',
      '15',
    ])
    assert.equal(
      first.series.reduce((n, s) => n + s.times.length, 0),
      15,
    )
    assert.ok(first.cursor !== null)
    const rest = await json<RawPage>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--limit',
      '15',
      '--cursor',
      first.cursor,
    ])
    assert.equal(
      rest.series.reduce((n, s) => n + s.times.length, 0),
      5,
    )
    assert.equal(rest.cursor, null)
    const table = await strata([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--tag',
      'site=s',
      '--from',
      '-3h',
      '--limit',
      '2',
    ])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /│ time +│ device │ metric │ tags +│ value │/)
    assert.match(table.stdout, /│ b +│ temp +│ site=s │ 0 +│/)
    assert.ok(!table.stdout.includes('\u001b['), 'no colours when not a terminal')
    assert.match(table.stdout, /more points: run again with --cursor \S+\n$/)
  })

  it('aggregates per bucket, by series or by tag, with fill', async () => {
    const bySeries = await json<{
      groups: { series: { device: string }; times: number[]; values: Record<string, unknown[]> }[]
    }>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--from',
      String(t0),
      '--to',
      String(t0 + 10 * minute),
      '--bucket',
      '5m',
      '--fn',
      'mean,max,count',
    ])
    const b = bySeries.groups.find((g) => g.series.device === 'b')
    assert.deepEqual(b?.values['mean'], [20, 70])
    assert.deepEqual(b.values['max'], [40, 90])
    const all = await json<{
      groups: { tags: Record<string, string>; values: Record<string, unknown[]> }[]
    }>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--from',
      String(t0),
      '--to',
      String(t0 + 15 * minute),
      '--bucket',
      '5m',
      '--fn',
      'sum',
      '--group-by',
      'site',
      '--fill',
      '0',
    ])
    assert.deepEqual(
      all.groups.map((g) => [g.tags['site'], g.values['sum']]),
      [
        ['n', [10, 35, 0]],
        ['s', [100, 350, 0]],
      ],
    )
    const table = await strata([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--from',
      String(t0),
      '--bucket',
      '1h',
      '--fn',
      'min,p50',
    ])
    assert.match(table.stdout, /│ bucket +│ group +│ min │ p50 │/)
  })

  it('gives the latest value of each series', async () => {
    const latest = await json<{
      values: { key: { device: string }; time: number; value: number }[]
    }>(['data', 'query', '--data', data, '--metric', 'temp', '--latest'])
    assert.deepEqual(
      latest.values.map((v) => [v.key.device, v.time, v.value]),
      [
        ['a', t0 + 9 * minute, 9],
        ['b', t0 + 9 * minute, 90],
      ],
    )
    const before = await json<{ values: { value: number }[] }>([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--latest',
      '--device',
      'a',
      '--to',
      String(t0 + 3 * minute),
    ])
    assert.deepEqual(
      before.values.map((v) => v.value),
      [2],
    )
  })

  it('refuses flags that do not go together', async () => {
    const fn = await strata(['data', 'query', '--data', data, '--metric', 'temp', '--fn', 'max'])
    assert.equal(fn.code, 2)
    assert.match(fn.stderr, /CLI_USAGE: --fn needs --bucket/)
    const bad = await strata([
      'data',
      'query',
      '--data',
      data,
      '--metric',
      'temp',
      '--from',
      'yesterday',
    ])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /option '--from <time>' argument 'yesterday' is invalid/)
    const metric = await strata(['data', 'query', '--data', data])
    assert.equal(metric.code, 2)
    assert.match(metric.stderr, /required option '--metric <name>'/)
  })

  it('prints stats', async () => {
    const stats = await json<{
      series: number
      points: number
      bytesOnDisk: number
      bytesPerPoint: number
      detail: { chunks: number }
    }>(['data', 'stats', '--data', data])
    assert.equal(stats.series, 2)
    assert.equal(stats.points, 20)
    assert.ok(stats.bytesOnDisk > 0 && stats.bytesPerPoint > 0)
    assert.ok(stats.detail.chunks >= 2)
    const prose = await strata(['data', 'stats', '--data', data])
    assert.match(prose.stdout, /^ {2}series +2\n {2}points +20\n {2}bytes on disk +[\d,]+ \(/m)
  })
})

describe('strata data progress and help', () => {
  const csv = file('progress.csv', `timestamp,value\n${String(t0)},1\n`)

  it('prints no progress when stderr is not a terminal, or with --json', async () => {
    const piped = await strata(['data', 'import', csv, '--data', folder(), '--series', 'd/m'])
    assert.equal(piped.code, 0)
    assert.equal(piped.stderr, '')
    const quiet = await strata(
      ['data', 'import', csv, '--data', folder(), '--series', 'd/m', '--json'],
      { ttyStderr: true },
    )
    assert.equal(quiet.stderr, '')
  })

  it('shows progress on a terminal', async () => {
    const tty = await strata(['data', 'import', csv, '--data', folder(), '--series', 'd/m'], {
      ttyStderr: true,
    })
    assert.equal(tty.code, 0)
    assert.match(tty.stderr, /points\/s/)
  })

  it('has --help for every verb', async () => {
    const group = await strata(['data', '--help'])
    assert.equal(group.code, 0)
    for (const verb of ['import', 'export', 'query', 'stats'])
      assert.match(group.stdout, new RegExp(`\\n  ${verb} `))
    const expected: Record<string, RegExp[]> = {
      import: [
        /--series <device\/metric>/,
        /--device-tag <name>/,
        /--precision <unit>/,
        /idempotent/,
      ],
      export: [/--output <file>/, /--format <format>/, /--from <time>/],
      query: [/--bucket <duration>/, /--fill <how>/, /--latest/, /--limit <n>/],
      stats: [/--data <dir>/],
    }
    for (const [verb, patterns] of Object.entries(expected)) {
      const r = await strata(['data', verb, '--help'])
      assert.equal(r.code, 0)
      for (const p of [...patterns, /--json/]) assert.match(r.stdout, p, `${verb} --help`)
    }
  })
})

describe('TIME and DURATION flags', () => {
  it('reads ISO 8601, epoch ms, now and relative times', () => {
    assert.deepEqual(parseTimeFlag('2025-11-25T08:00:00Z'), { kind: 'absolute', ms: 1764057600000 })
    assert.deepEqual(parseTimeFlag('2025-11-25T09:00:00+01:00'), {
      kind: 'absolute',
      ms: 1764057600000,
    })
    assert.deepEqual(parseTimeFlag('2025-11-25 08:00'), { kind: 'absolute', ms: 1764057600000 })
    assert.deepEqual(parseTimeFlag('1764057600000'), { kind: 'absolute', ms: 1764057600000 })
    assert.deepEqual(parseTimeFlag('now'), { kind: 'relative', offsetMs: 0 })
    assert.deepEqual(parseTimeFlag('-15m'), { kind: 'relative', offsetMs: -900_000 })
    assert.deepEqual(parseTimeFlag('-7d'), { kind: 'relative', offsetMs: -604_800_000 })
    assert.throws(() => parseTimeFlag('2025-13-45'), /expected ISO 8601/)
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('1h'), 3_600_000)
    assert.throws(() => parseDuration('0s'), /positive duration/)
  })
})
