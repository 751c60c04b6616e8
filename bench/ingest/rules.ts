// The rules `--rules N` loads into our node for the "rules on" rounds: a mix a real tenant has
// (docs/rules.md), over the bench's telemetry (temp 21.01–21.98, hum 40.1–40.9, per record):
// - thresholds on one metric, most never crossed, one in five crossed now and then (an alarm,
//   raised once and then deduplicated);
// - stateful operators per device: forAtLeast with hysteresis, tumbling windows, deadbands, rates;
// - CEL transforms that reshape and republish a share of the records;
// - rules for devices of another site, or for events only: selected out before any CEL runs.
// Deterministic: rule i of N is always the same rule.

type Json = Record<string, unknown>

const kinds = [
  'threshold',
  'hysteresis',
  'window',
  'deadband',
  'rate',
  'republish',
  'other-site',
  'events',
] as const

/** The N rules, named `bench-<kind>-<i>`. */
export function benchRules(n: number): Json[] {
  return Array.from({ length: n }, (_, i) => benchRule(i))
}

function benchRule(i: number): Json {
  const kind = kinds[i % kinds.length] ?? 'threshold'
  const name = `bench-${kind}-${String(i)}`
  const base = { name, enabled: true, description: `ingest bench rule ${String(i)} (${kind})` }
  // autoClear off for bare thresholds: on data hovering at the limit it would flap (raise, clear,
  // raise …); a real rule uses forAtLeast or hysteresis for that, as the `hysteresis` kind does
  const alarm = (type: string, autoClear = true) => ({
    type: 'alarm',
    name: type,
    severity: 'warning',
    autoClear,
  })
  switch (kind) {
    case 'threshold': {
      // one in five thresholds sits inside the data's range: crossed by ~2 % of the records
      const limit = i % 5 === 0 ? 21.96 : 25 + i / 10
      return {
        ...base,
        match: { topicKinds: ['telemetry'], metrics: ['temp'] },
        condition: `payload.temp > ${String(limit)}`,
        actions: [alarm(`temp-above-${String(limit)}`, false)],
      }
    }
    case 'hysteresis':
      return {
        ...base,
        match: { metrics: ['temp'] },
        operators: [
          { name: 'hot', type: 'forAtLeast', metric: 'temp', forMs: 60_000, above: 30, below: 28 },
        ],
        condition: 'state.hot.active',
        actions: [alarm('overheat')],
      }
    case 'window':
      return {
        ...base,
        match: { metrics: ['hum'] },
        operators: [{ name: 'w', type: 'window', mode: 'tumbling', sizeMs: 60_000, metric: 'hum' }],
        condition: 'state.w.complete && state.w.mean > 45.0',
        transform: '{"mean": state.w.mean, "max": state.w.max}',
        actions: [alarm('humid')],
      }
    case 'deadband':
      return {
        ...base,
        match: { metrics: ['temp'] },
        operators: [{ name: 'db', type: 'deadband', metric: 'temp', threshold: 2 }],
        condition: 'state.db.emit',
        transform: '{"temp": state.db.value}',
        actions: [{ type: 'republish', topic: `bench/deadband/{deviceId}/${String(i)}`, qos: 0 }],
      }
    case 'rate':
      return {
        ...base,
        match: { metrics: ['hum'] },
        operators: [{ name: 'r', type: 'rateOfChange', metric: 'hum' }],
        condition: 'has(state.r.rate) && state.r.rate > 1000.0',
        actions: [alarm('humidity-jump')],
      }
    case 'republish':
      // about one record in nine: hum 40.9
      return {
        ...base,
        match: { topicKinds: ['telemetry'] },
        condition: 'has(payload.hum) && payload.hum > 40.85',
        transform: '{"device": device.id, "hum": payload.hum, "f": payload.temp * 1.8 + 32.0}',
        actions: [{ type: 'republish', topic: `bench/humid/{deviceId}`, qos: 0 }],
      }
    case 'other-site':
      return {
        ...base,
        match: { devices: `site=plant-${String(i)}` },
        condition: 'payload.temp > 0.0',
        actions: [alarm('other-site')],
      }
    case 'events':
      return {
        ...base,
        match: { topicKinds: ['event'] },
        condition: 'payload.code == "overheat"',
        actions: [alarm('event-overheat')],
      }
  }
}
