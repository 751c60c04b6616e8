import type { VNode } from 'preact'
import { AccessPage } from '../pages/access/access-page.js'
import { AlarmPage } from '../pages/alarms/alarm-page.js'
import { AlarmsPage } from '../pages/alarms/alarms-page.js'
import { AuditPage } from '../pages/audit/audit-page.js'
import { RulePage } from '../pages/rules/rule-page.js'
import { RulesPage } from '../pages/rules/rules-page.js'
import { ComingSoonPage } from '../pages/coming-soon/coming-soon-page.js'
import { DevicePage } from '../pages/device/device-page.js'
import { DevicesPage } from '../pages/devices/devices-page.js'
import { OverviewPage } from '../pages/overview/overview-page.js'
import type { Permission } from '../session/permissions.js'

/**
 * One entry per console page. A page lives in its own folder under pages/; adding one is a folder
 * and a line here (and, for the navigation, a `nav` label).
 */
export interface RouteDef {
  /** `/devices/:id`: `:name` segments become params. */
  readonly path: string
  /** In the navigation, in this order; absent: reached through links only. */
  readonly nav?: string
  /** The permission the page needs; without it the page is a clear 403 and hidden from the nav. */
  readonly needs?: Permission
  /** A page that is not there yet: the nav marks it, and it says what will bring it. */
  readonly comingWith?: string
  render: (params: Readonly<Record<string, string>>) => VNode
}

export const routes: readonly RouteDef[] = [
  { path: '/', nav: 'Overview', render: () => <OverviewPage /> },
  { path: '/devices', nav: 'Devices', needs: 'devices:read', render: () => <DevicesPage /> },
  {
    path: '/devices/:id',
    needs: 'devices:read',
    render: (p) => <DevicePage key={p['id']} deviceId={p['id'] ?? ''} />,
  },
  { path: '/alarms', nav: 'Alarms', needs: 'alarms:read', render: () => <AlarmsPage /> },
  {
    path: '/alarms/:id',
    needs: 'alarms:read',
    render: (p) => <AlarmPage key={p['id']} alarmId={p['id'] ?? ''} />,
  },
  { path: '/rules', nav: 'Rules', needs: 'rules:read', render: () => <RulesPage /> },
  {
    path: '/rules/:name',
    needs: 'rules:read',
    render: (p) => <RulePage key={p['name']} name={p['name'] ?? ''} />,
  },
  {
    path: '/access',
    nav: 'Users & tokens',
    needs: 'users:manage',
    render: () => <AccessPage />,
  },
  { path: '/audit', nav: 'Audit log', needs: 'audit:read', render: () => <AuditPage /> },
  {
    path: '/firmware',
    nav: 'Firmware',
    comingWith: 'OTA',
    render: () => (
      <ComingSoonPage title="Firmware" comingWith="OTA">
        Upload signed firmware images, see their manifests and which devices run which version.
      </ComingSoonPage>
    ),
  },
  {
    path: '/campaigns',
    nav: 'Campaigns',
    comingWith: 'OTA',
    render: () => (
      <ComingSoonPage title="Campaigns" comingWith="OTA">
        Roll firmware out in waves to a group, follow each device's progress, pause or roll back.
      </ComingSoonPage>
    ),
  },
]
