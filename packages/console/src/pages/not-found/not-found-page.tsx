import { ErrorPage } from '../../components/error-page.js'
import { PageHeader } from '../../components/page-header.js'

export function NotFoundPage({ path }: { readonly path: string }) {
  return (
    <>
      <PageHeader title="Page not found" />
      <ErrorPage title="No such page" message={`The console has no page at ${path}.`} />
    </>
  )
}
