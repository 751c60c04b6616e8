/** How the SDK reacts to a refused CONNECT. */
export interface ConnectRefusal {
  /** True when retrying cannot help (credentials, authorisation, client id): stop reconnecting. */
  readonly fatal: boolean
  /** The reason, e.g. `0x86 bad user name or password`. */
  readonly description: string
  /** What the device's operator should do. */
  readonly hint: string
}

const names: Readonly<Record<number, string>> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8b: 'server shutting down',
  0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x90: 'topic name invalid',
  0x93: 'receive maximum exceeded',
  0x95: 'packet too large',
  0x97: 'quota exceeded',
  0x98: 'administrative action',
  0x99: 'payload format invalid',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9f: 'connection rate exceeded',
}

/** `0x86 bad user name or password`: a reason code as people and logs read it. */
export function describeReasonCode(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')} ${names[code] ?? 'refused'}`
}

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3) mapped to the MQTT 5 reason codes they stand for. */
const v4ReturnCodes: Readonly<Record<number, number>> = {
  1: 0x84,
  2: 0x85,
  3: 0x88,
  4: 0x86,
  5: 0x87,
}

const credentialHint =
  'Check the device id and its credentials: a token goes with user name = client id = device id; a certificate must be one Strata issued to this device and not revoked. Issue a new token or provision again if it was revoked.'

const fatalHints: Readonly<Record<number, string>> = {
  0x84: 'The broker does not speak this MQTT version: set protocolVersion to 4 (MQTT 3.1.1) or 5.',
  0x85: 'The client id must be the device id the credentials belong to.',
  0x86: credentialHint,
  0x87: `The broker knows the credentials but will not admit this device (revoked, disabled, wrong tenant). ${credentialHint}`,
  0x8a: 'The device is banned by the broker: ask its operator.',
  0x8c: 'The broker does not accept this authentication method.',
}

/**
 * Classifies a CONNACK refusal. Refusals about who the device is (0x84–0x87, 0x8A, 0x8C; 3.1.1
 * codes 1, 2, 4, 5) are fatal: the same CONNECT will be refused again, so looping would only load
 * the broker and fill its audit log. Everything else (busy, unavailable, rate exceeded, shutting
 * down) is retried with backoff.
 *
 * @example
 * classifyConnectRefusal(0x86, 5).fatal // true
 * classifyConnectRefusal(0x9f, 5).fatal // false
 */
export function classifyConnectRefusal(code: number, protocolVersion: 4 | 5): ConnectRefusal {
  const v5 = protocolVersion === 4 ? (v4ReturnCodes[code] ?? 0x80) : code
  const hint = fatalHints[v5]
  const description =
    protocolVersion === 4
      ? `return code ${String(code)} (${names[v5] ?? 'refused'})`
      : describeReasonCode(code)
  if (hint !== undefined) return { fatal: true, description, hint }
  return {
    fatal: false,
    description,
    hint: 'The broker is busy, unavailable or limiting connects; the client retries with backoff.',
  }
}

/**
 * PUBACK reason codes worth retrying: 0x97 quota exceeded (the device's message rate) and 0x89
 * server busy. Resending what the broker found invalid (0x99) or could not store (0x83) would be
 * refused again, so those are reported and dropped.
 */
export function isRetryablePuback(code: number): boolean {
  return code === 0x97 || code === 0x89
}
