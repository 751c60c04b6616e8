import { ProtocolError, type TelemetryRecord } from '@strata/protocol'
import { valueTypeOf } from '@strata/tsdb'
import type { ProfileSpec } from '../registry/device-profiles.js'

/**
 * Checks telemetry against the device's profile: a declared metric must carry its declared type;
 * with `strictMetrics`, an undeclared metric is refused. `PROTOCOL_INVALID` names the first one.
 */
export function checkAgainstProfile(
  spec: ProfileSpec | undefined,
  records: readonly TelemetryRecord[],
): void {
  const declared = spec?.metrics
  if (declared === undefined && spec?.strictMetrics !== true) return
  for (const record of records) {
    for (const [metric, value] of Object.entries(record.values)) {
      const declaration =
        declared !== undefined && Object.hasOwn(declared, metric) ? declared[metric] : undefined
      if (declaration === undefined) {
        if (spec?.strictMetrics === true) {
          throw new ProtocolError(
            'PROTOCOL_INVALID',
            `metric ${metric} is not declared in the device's profile`,
            {
              hint: 'Declare it in the profile, or turn strictMetrics off.',
              details: { metric },
            },
          )
        }
        continue
      }
      const type = valueTypeOf(value)
      if (type !== declaration.type) {
        throw new ProtocolError(
          'PROTOCOL_INVALID',
          `metric ${metric} is ${type}; the device's profile declares ${declaration.type}`,
          {
            details: { metric, type, declared: declaration.type },
          },
        )
      }
    }
  }
}
