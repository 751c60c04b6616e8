import { PageHeader } from '../../components/page-header.js'
import { useCan } from '../../app/app-context.js'
import { TokensPanel } from './tokens-panel.js'
import { UsersPanel } from './users-panel.js'

/** The tenant's users and API tokens (admins: `users:manage`, `tokens:manage`). */
export function AccessPage() {
  const canUsers = useCan('users:manage')
  const canTokens = useCan('tokens:manage')
  return (
    <>
      <PageHeader title="Users and API tokens" />
      {canUsers ? <UsersPanel /> : null}
      {canTokens ? <TokensPanel /> : null}
    </>
  )
}
