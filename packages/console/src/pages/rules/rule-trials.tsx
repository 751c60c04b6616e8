import { useState } from 'preact/hooks'
import type { DryRunReport, JsonObject } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import type { ApiError } from '../../errors.js'
import { RuleReport } from './rule-report.js'
import { parseObject, violationsOf } from './rule-text.js'

const hourMs = 3_600_000

/** `datetime-local` text for a time in the browser's zone. */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000)
  return d.toISOString().slice(0, 16)
}

/**
 * The samples box: one payload object, or an array of payloads or of `{payload, deviceId?, ts?}`
 * samples, each sent as a message of `deviceId` a second apart (unless it names its own time).
 */
function samplesOf(text: string, deviceId: string): JsonObject[] {
  const value: unknown = JSON.parse(text)
  const list = Array.isArray(value) ? (value as unknown[]) : [value]
  const start = Date.now() - list.length * 1000
  return list.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new Error(`sample ${String(i + 1)} is not a JSON object`)
    const o = item as JsonObject
    const sample: JsonObject =
      typeof o['payload'] === 'object' && o['payload'] !== null ? { ...o } : { payload: o }
    sample['deviceId'] ??= deviceId
    sample['ts'] ??= start + i * 1000
    return sample
  })
}

interface Outcome {
  readonly what: string
  readonly report?: DryRunReport
  readonly error?: string
}

/**
 * Try the rule as it stands in the editor, without saving and with no side effects: a dry run over
 * sample messages (POST /api/v1/rules/dry-run), or a replay of a device's recorded traffic
 * over a window (POST /api/v1/rules/replay). Both need only `rules:read`; a replay also
 * `telemetry:read`.
 */
export function RuleTrials({
  definitionText,
  savedName,
}: {
  readonly definitionText: string
  readonly savedName?: string | undefined
}) {
  const { api } = useApp()
  const canReplay = useCan('telemetry:read')
  const [samples, setSamples] = useState('{ "temp": 90 }')
  const [sampleDevice, setSampleDevice] = useState('device')
  const [device, setDevice] = useState('')
  const [from, setFrom] = useState(() => localInput(Date.now() - hourMs))
  const [to, setTo] = useState(() => localInput(Date.now() + 60_000))
  const [busy, setBusy] = useState(false)
  const [outcome, setOutcome] = useState<Outcome | undefined>()

  const run = (what: string, path: string, body: (rule: JsonObject) => JsonObject) => {
    const rule = parseObject(definitionText, 'The definition')
    if (!rule.ok) {
      setOutcome({ what, error: rule.message })
      return
    }
    let payload: JsonObject
    try {
      payload = body(rule.value)
    } catch (err) {
      setOutcome({ what, error: `Samples: ${(err as Error).message}` })
      return
    }
    setBusy(true)
    api
      .post<DryRunReport>(path, payload)
      .then(
        (report) => setOutcome({ what, report }),
        (err: unknown) => {
          const e = err as ApiError
          const detail =
            e.status === 400
              ? violationsOf(e)
                  .map((v) => (v.path === '' ? v.message : `${v.path}: ${v.message}`))
                  .join('; ')
              : e.message
          setOutcome({ what, error: detail })
        },
      )
      .finally(() => setBusy(false))
  }

  return (
    <div class="trials">
      <div class="two-columns">
        <form
          class="trial"
          aria-labelledby="dry-run-title"
          onSubmit={(e) => {
            e.preventDefault()
            run('Dry run', '/api/v1/rules/dry-run', (rule) => ({
              rule,
              samples: samplesOf(samples, sampleDevice.trim() || 'device'),
            }))
          }}
        >
          <h3 id="dry-run-title">Dry run against sample messages</h3>
          <label>
            Samples (a payload, or a JSON array of payloads or of {'{payload, deviceId, ts}'})
            <textarea
              class="mono"
              rows={4}
              spellcheck={false}
              value={samples}
              onInput={(e) => setSamples(e.currentTarget.value)}
            />
          </label>
          <label>
            From device
            <input
              value={sampleDevice}
              spellcheck={false}
              onInput={(e) => setSampleDevice(e.currentTarget.value)}
            />
          </label>
          <div class="actions">
            <button type="submit" disabled={busy}>
              Dry run
            </button>
          </div>
        </form>
        {canReplay ? (
          <form
            class="trial"
            aria-labelledby="replay-title"
            onSubmit={(e) => {
              e.preventDefault()
              run('Replay', '/api/v1/rules/replay', (rule) => ({
                rule,
                device: device.trim(),
                from: new Date(from).getTime(),
                to: new Date(to).getTime(),
              }))
            }}
          >
            <h3 id="replay-title">Replay a device's recorded data</h3>
            <label>
              Device
              <input
                required
                value={device}
                spellcheck={false}
                onInput={(e) => setDevice(e.currentTarget.value)}
              />
            </label>
            <div class="form-grid">
              <label>
                From
                <input
                  type="datetime-local"
                  required
                  value={from}
                  onInput={(e) => setFrom(e.currentTarget.value)}
                />
              </label>
              <label>
                To
                <input
                  type="datetime-local"
                  required
                  value={to}
                  onInput={(e) => setTo(e.currentTarget.value)}
                />
              </label>
            </div>
            <div class="actions">
              <button type="submit" disabled={busy}>
                Replay
              </button>
            </div>
          </form>
        ) : null}
      </div>
      {outcome === undefined ? null : (
        <section class="trial-result" aria-live="polite" aria-labelledby="trial-result-title">
          <h3 id="trial-result-title">
            {outcome.what} of {savedName === undefined ? 'the draft' : `the text of ${savedName}`}
          </h3>
          {outcome.error === undefined ? null : (
            <p class="inline-error" role="alert">
              {outcome.error}
            </p>
          )}
          {outcome.report === undefined ? null : <RuleReport report={outcome.report} />}
        </section>
      )}
    </div>
  )
}
