import { useState } from 'preact/hooks'
import type { Certificate, DeviceToken } from '../../api/types.js'
import { useApp, useCan } from '../../app/app-context.js'
import { ConfirmDialog } from '../../components/confirm-dialog.js'
import { InlineError } from '../../components/error-page.js'
import { formatAgo, formatTime } from '../../components/format.js'
import { SecretOnce } from '../../components/secret-once.js'
import { toast } from '../../components/toast.js'
import { useAsync } from '../../components/use-async.js'
import type { ApiError } from '../../errors.js'

type Pending = { kind: 'token'; id: string } | { kind: 'certificate'; serial: string }

/** Device tokens (never their secrets) and certificates: issue a token (shown once), revoke either. */
export function CredentialsPanel({ deviceId }: { readonly deviceId: string }) {
  const { api } = useApp()
  const canManage = useCan('devices:credentials')
  const base = `/api/v1/devices/${encodeURIComponent(deviceId)}`
  const tokens = useAsync(
    (signal) => api.get<{ items: DeviceToken[] }>(`${base}/tokens`, undefined, signal),
    [deviceId],
  )
  const certificates = useAsync(
    (signal) =>
      canManage
        ? api.get<{ items: Certificate[] }>(`${base}/certificates`, undefined, signal)
        : Promise.resolve({ items: [] }),
    [deviceId],
  )
  const [secret, setSecret] = useState<string | undefined>()
  const [pending, setPending] = useState<Pending | undefined>()
  const [error, setError] = useState<ApiError | undefined>()

  const revoke = () => {
    if (pending === undefined) return
    const call =
      pending.kind === 'token'
        ? api.delete(`${base}/tokens/${encodeURIComponent(pending.id)}`)
        : api.post(`${base}/certificates/${encodeURIComponent(pending.serial)}/revoke`, {
            reason: 'revoked in the console',
          })
    call.then(
      () => {
        toast(pending.kind === 'token' ? 'Token revoked' : 'Certificate revoked', 'success')
        tokens.reload()
        certificates.reload()
      },
      (err: unknown) => setError(err as ApiError),
    )
    setPending(undefined)
  }

  return (
    <section class="card" aria-labelledby="credentials-title">
      <div class="section-head">
        <h2 id="credentials-title">Credentials</h2>
        {canManage ? (
          <button
            type="button"
            onClick={() => {
              api.post<{ token: string }>(`${base}/tokens`, {}).then(
                (r) => {
                  setSecret(r.token)
                  tokens.reload()
                },
                (err: unknown) => setError(err as ApiError),
              )
            }}
          >
            Issue a token
          </button>
        ) : null}
      </div>
      {secret === undefined ? null : (
        <SecretOnce label="New device token" secret={secret} onDone={() => setSecret(undefined)} />
      )}
      <InlineError error={error ?? tokens.error ?? certificates.error} />
      <h3>Tokens</h3>
      <table class="compact">
        <caption class="sr-only">Device tokens</caption>
        <thead>
          <tr>
            <th scope="col">Token id</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">State</th>
            {canManage ? <th scope="col">Action</th> : null}
          </tr>
        </thead>
        <tbody>
          {(tokens.data?.items ?? []).map((t) => (
            <tr key={t.id}>
              <td>
                <code>{t.id}</code>
              </td>
              <td>{formatTime(t.createdAt)}</td>
              <td>{formatAgo(t.lastUsedAt)}</td>
              <td>
                {t.revokedAt === null
                  ? t.expiresAt === null
                    ? 'valid'
                    : `expires ${formatTime(t.expiresAt)}`
                  : 'revoked'}
              </td>
              {canManage ? (
                <td>
                  {t.revokedAt === null ? (
                    <button
                      type="button"
                      class="danger"
                      onClick={() => setPending({ kind: 'token', id: t.id })}
                    >
                      Revoke
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {canManage ? (
        <>
          <h3>Certificates</h3>
          {(certificates.data?.items ?? []).length === 0 ? (
            <p class="muted">
              No certificate. A device gets one from a CSR (POST {base}/certificates) or by
              provisioning with a claim.
            </p>
          ) : (
            <table class="compact">
              <caption class="sr-only">Device certificates</caption>
              <thead>
                <tr>
                  <th scope="col">Serial</th>
                  <th scope="col">Valid</th>
                  <th scope="col">SHA-256</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {(certificates.data?.items ?? []).map((c) => (
                  <tr key={c.serialNumber}>
                    <td>
                      <code>{c.serialNumber}</code>
                    </td>
                    <td>
                      {formatTime(c.notBefore)} – {formatTime(c.notAfter)}
                      {c.revokedAt === null ? '' : ` (revoked: ${c.revokeReason ?? ''})`}
                    </td>
                    <td>
                      <code class="clip">{c.fingerprintSha256}</code>
                    </td>
                    <td>
                      {c.revokedAt === null ? (
                        <button
                          type="button"
                          class="danger"
                          onClick={() =>
                            setPending({ kind: 'certificate', serial: c.serialNumber })
                          }
                        >
                          Revoke
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
      <ConfirmDialog
        open={pending !== undefined}
        title={pending?.kind === 'certificate' ? 'Revoke this certificate?' : 'Revoke this token?'}
        confirmLabel="Revoke"
        danger
        onCancel={() => setPending(undefined)}
        onConfirm={revoke}
      >
        <p>A session it opened is cut at once and it can never connect again.</p>
      </ConfirmDialog>
    </section>
  )
}
