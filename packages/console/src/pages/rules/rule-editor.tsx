import { useRef, useState } from 'preact/hooks'
import type { Rule, RuleViolation } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { toast } from '../../components/toast.js'
import type { ApiError } from '../../errors.js'
import { RuleTrials } from './rule-trials.js'
import { offsetOfPointer, parseObject, violationsOf } from './rule-text.js'

export interface RuleEditorProps {
  /** The rule being edited (its version goes in `If-Match`); undefined: a new rule. */
  readonly rule?: Rule | undefined
  readonly initialText: string
  onSaved: (rule: Rule) => void
  /** After a 412: read the rule again (the editor is then remounted with its definition). */
  onReload?: () => void
  onCancel?: () => void
}

interface Problem {
  readonly summary: string
  readonly code?: string | undefined
  readonly hint?: string | undefined
  readonly violations: readonly RuleViolation[]
}

/**
 * A rule definition as JSON in a textarea. Saving sends it as is (POST for a new rule, PUT with
 * `If-Match` for an existing one); the node compiles it exactly as the engine will, and a 400's
 * violations (JSON pointers) are listed beside the editor, each one a button that puts the cursor
 * on its field. The text is never thrown away on an error. A 412 says someone else saved
 * meanwhile and offers a reload. Below, dry runs and replays of the text as it stands.
 */
export function RuleEditor(props: RuleEditorProps) {
  const { api } = useApp()
  const canWrite = useCan('rules:write')
  const [text, setText] = useState(props.initialText)
  const [problem, setProblem] = useState<Problem | undefined>()
  const [conflict, setConflict] = useState(false)
  const [busy, setBusy] = useState(false)
  const area = useRef<HTMLTextAreaElement>(null)
  const rule = props.rule

  const save = () => {
    const parsed = parseObject(text, 'The definition')
    if (!parsed.ok) {
      setProblem({ summary: parsed.message, violations: [] })
      return
    }
    setBusy(true)
    setProblem(undefined)
    setConflict(false)
    const request =
      rule === undefined
        ? api.request<Rule>('POST', '/api/v1/rules', { body: parsed.value })
        : api.request<Rule>('PUT', `/api/v1/rules/${encodeURIComponent(rule.name)}`, {
            body: parsed.value,
            headers: { 'if-match': `"${String(rule.version)}"` },
          })
    request
      .then(
        (res) => {
          toast(`Rule ${res.data.name} saved: version ${String(res.data.version)}`, 'success')
          props.onSaved(res.data)
        },
        (err: unknown) => {
          const e = err as ApiError
          if (e.status === 412) setConflict(true)
          else
            setProblem({
              summary: e.message,
              code: e.code,
              hint: e.hint,
              violations: e.status === 400 ? violationsOf(e) : [],
            })
        },
      )
      .finally(() => setBusy(false))
  }

  const focusPointer = (pointer: string) => {
    const el = area.current
    if (el === null) return
    const at = offsetOfPointer(text, pointer)
    el.focus()
    if (at !== undefined) el.setSelectionRange(at, at)
  }

  return (
    <section class="card" aria-labelledby="rule-editor-title">
      <h2 id="rule-editor-title">
        {rule === undefined ? 'New rule' : canWrite ? 'Definition' : 'Definition (read only)'}
      </h2>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          save()
        }}
      >
        <div class="editor-grid">
          <label>
            Rule JSON{rule === undefined ? '' : ` (version ${String(rule.version)})`}
            <textarea
              ref={area}
              class="mono rule-json"
              rows={18}
              spellcheck={false}
              readOnly={!canWrite}
              value={text}
              aria-invalid={problem !== undefined}
              aria-describedby="rule-problems rule-help"
              onInput={(e) => setText(e.currentTarget.value)}
            />
            <span class="help" id="rule-help">
              docs/rules.md, "The rule JSON". Secrets show as "********"; saving "********" keeps
              the stored secret.
            </span>
          </label>
          <div id="rule-problems" class="rule-problems" aria-live="polite">
            {problem === undefined ? (
              <p class="muted">
                The node checks the rule when you save or try it: schema, expressions, limits.
              </p>
            ) : (
              <div class="inline-error" role="alert" data-testid="rule-problems">
                <p>
                  <strong>Not saved.</strong> {problem.summary}
                </p>
                {problem.violations.length === 0 ? null : (
                  <ul class="violations">
                    {problem.violations.map((v, i) => (
                      <li key={i}>
                        <button
                          type="button"
                          class="link"
                          title="Go to this field"
                          onClick={() => focusPointer(v.path)}
                        >
                          <code>{v.path === '' ? '(the rule)' : v.path}</code>
                        </button>{' '}
                        {v.message}
                      </li>
                    ))}
                  </ul>
                )}
                {problem.hint === undefined ? null : <p class="hint">{problem.hint}</p>}
                {problem.code === undefined ? null : (
                  <p class="muted">
                    <code>{problem.code}</code>
                  </p>
                )}
              </div>
            )}
            {conflict && rule !== undefined ? (
              <div class="inline-error" role="alert">
                Someone saved this rule since you loaded version {rule.version}. Reload it to see
                their change (your text is replaced: copy it first if you need it), then edit again.{' '}
                <button type="button" onClick={props.onReload}>
                  Reload the rule
                </button>
              </div>
            ) : null}
          </div>
        </div>
        {canWrite ? (
          <div class="actions">
            {props.onCancel === undefined ? null : (
              <button type="button" onClick={props.onCancel}>
                Cancel
              </button>
            )}
            <button type="submit" class="primary" disabled={busy}>
              {rule === undefined ? 'Create rule' : 'Save rule'}
            </button>
          </div>
        ) : null}
      </form>
      <RuleTrials definitionText={text} savedName={rule?.name} />
    </section>
  )
}
