import { isDeviceId } from '@strata/protocol'
import { DeviceError } from '../errors.js'
import type { SimProfile } from './sim-profile-schema.js'

/** Who a simulated device is, and how it proves it to the broker. */
export interface SimIdentity {
  /** The device id: MQTT client id and the namespace of its topics. */
  readonly id: string
  readonly auth:
    /** Username = device id, password = the device token. */
    | { readonly kind: 'token'; readonly token: string }
    /** Mutual TLS with a per-device certificate (needs an `mqtts://` broker URL). */
    | {
        readonly kind: 'certificate'
        readonly certificatePem: string
        readonly privateKeyPem: string
      }
    /** Nothing: for a plain broker with anonymous access (benchmarks, local tests). */
    | { readonly kind: 'none' }
}

/** What a fleet is made of. */
export interface FleetOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly brokerUrl: string
  /** The CA (PEM) that signed the broker's certificate, for `mqtts://`. */
  readonly caPem?: string
  readonly identities: readonly SimIdentity[]
  readonly profile: SimProfile
  /** Connections opened per second while the fleet ramps up (default 200). */
  readonly connectsPerSecond?: number
  /** Seed of every random choice: the same seed gives the same devices and values. */
  readonly seed?: number
  /** MQTT 5 (default) or 3.1.1. */
  readonly protocolVersion?: 4 | 5
}

/** Where the broker is, from `brokerUrl`. */
export interface BrokerAddress {
  readonly host: string
  readonly port: number
  readonly tls: boolean
}

function invalid(message: string, hint: string): DeviceError {
  return new DeviceError('DEVICE_FLEET_OPTIONS_INVALID', message, { hint })
}

/** Checks the options a fleet cannot run without; throws DEVICE_FLEET_OPTIONS_INVALID. */
export function parseFleetOptions(options: FleetOptions): BrokerAddress {
  let url: URL
  try {
    url = new URL(options.brokerUrl)
  } catch {
    throw invalid(
      `broker URL ${JSON.stringify(options.brokerUrl)} is not a URL`,
      'Give mqtt://host:port or mqtts://host:port.',
    )
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    throw invalid(
      `broker URL ${options.brokerUrl} is not mqtt:// or mqtts://`,
      'The simulator speaks MQTT over TCP or TLS; give mqtt://host:port or mqtts://host:port.',
    )
  }
  const secure = url.protocol === 'mqtts:'
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = url.port === '' ? (secure ? 8883 : 1883) : Number(url.port)
  const cps = options.connectsPerSecond
  if (cps !== undefined && !(cps > 0 && Number.isFinite(cps))) {
    throw invalid(
      `connectsPerSecond ${String(cps)} is not a positive number`,
      'Ramp up with, e.g., 200 connections per second.',
    )
  }
  // Checked at run time too: the options may come from JavaScript or parsed flags.
  const version = options.protocolVersion as number | undefined
  if (version !== undefined && version !== 4 && version !== 5) {
    throw invalid(
      `protocolVersion ${String(options.protocolVersion)} is neither 4 (3.1.1) nor 5`,
      'Use 5, or 4 for MQTT 3.1.1.',
    )
  }
  const seen = new Set<string>()
  for (const [i, identity] of options.identities.entries()) {
    if (!isDeviceId(identity.id)) {
      throw invalid(
        `identities[${String(i)}].id ${JSON.stringify(identity.id)} is not a device id`,
        'Device ids are 1–64 of A–Z a–z 0–9 . _ : - and start with a letter or digit.',
      )
    }
    if (seen.has(identity.id)) {
      throw invalid(
        `identities[${String(i)}].id ${identity.id} appears twice`,
        'Give every simulated device its own id.',
      )
    }
    seen.add(identity.id)
    if (identity.auth.kind === 'certificate' && !secure) {
      throw invalid(
        `device ${identity.id} has a certificate but the broker URL is ${options.brokerUrl}`,
        'Certificates need TLS: use an mqtts:// broker URL.',
      )
    }
  }
  return { host, port, tls: secure }
}
