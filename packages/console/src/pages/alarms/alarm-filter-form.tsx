import { useState } from 'preact/hooks'
import { alarmStatuses, severities, type AlarmFilters } from './alarm-filters.js'

/** The Alarms page's filters; applied on submit (Enter in any field). */
export function AlarmFilterForm({
  initial,
  onApply,
}: {
  readonly initial: AlarmFilters
  onApply: (filters: AlarmFilters) => void
}) {
  const [f, setF] = useState(initial)
  const text = (key: 'device' | 'type' | 'rule' | 'q', label: string, placeholder = '') => (
    <label class={key === 'q' ? 'grow' : ''}>
      {label}
      <input
        type="search"
        value={f[key]}
        placeholder={placeholder}
        spellcheck={false}
        onInput={(e) => setF({ ...f, [key]: e.currentTarget.value })}
      />
    </label>
  )
  return (
    <form
      class="filters"
      role="search"
      aria-label="Filter alarms"
      onSubmit={(e) => {
        e.preventDefault()
        onApply(f)
      }}
    >
      <label>
        Status
        <select
          value={f.status}
          onChange={(e) => setF({ ...f, status: e.currentTarget.value as AlarmFilters['status'] })}
        >
          <option value="open">open (active or acknowledged)</option>
          {alarmStatuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
          <option value="">any</option>
        </select>
      </label>
      <label>
        Severity
        <select
          value={f.severity}
          onChange={(e) =>
            setF({ ...f, severity: e.currentTarget.value as AlarmFilters['severity'] })
          }
        >
          <option value="">any</option>
          {severities.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      {text('device', 'Device ids', 'pump-7,pump-8')}
      {text('type', 'Type')}
      {text('rule', 'Rule')}
      {text('q', 'Text in type, message or device')}
      <label>
        Raised from
        <input
          type="datetime-local"
          value={f.from}
          onInput={(e) => setF({ ...f, from: e.currentTarget.value })}
        />
      </label>
      <label>
        Raised before
        <input
          type="datetime-local"
          value={f.to}
          onInput={(e) => setF({ ...f, to: e.currentTarget.value })}
        />
      </label>
      <button type="submit">Filter</button>
    </form>
  )
}
