import type { ComponentChildren } from 'preact'
import { PageHeader } from '../../components/page-header.js'

/** The place a page will take once the work that brings it lands (firmware and campaigns: OTA). */
export function ComingSoonPage(props: {
  readonly title: string
  readonly comingWith: string
  readonly children?: ComponentChildren
}) {
  return (
    <>
      <PageHeader title={props.title} />
      <section class="card">
        <p>
          <strong>Coming with {props.comingWith}.</strong> This page is not built yet.
        </p>
        <p class="muted">{props.children}</p>
      </section>
    </>
  )
}
