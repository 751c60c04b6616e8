/**
 * Builders for well-formed packets (through mqtt-packet's encoder, which the broker does not use
 * for parsing), so that cases only hand-write the bytes that matter: the malformed ones.
 */
import mqttPacket, { type IConnectPacket, type Packet } from 'mqtt-packet'
import { RawClient } from './raw-client.js'

export type Version = 4 | 5

/** Encodes a packet for a protocol version. Accepts loose JSON (string passwords, payloads). */
export function encode(packet: Record<string, unknown>, version: Version): Buffer {
  const p = { ...packet } as Record<string, unknown>
  if (typeof p['password'] === 'string') p['password'] = Buffer.from(p['password'])
  if (p['cmd'] === 'connect') p['protocolVersion'] ??= version
  return mqttPacket.generate(p as unknown as Packet, { protocolVersion: version })
}

/** The CONNECT fields cases and tests set; everything else has a default. */
export interface ConnectOptions {
  readonly clientId: string
  readonly clean?: boolean
  readonly keepalive?: number
  readonly username?: string
  readonly password?: string
  readonly will?: IConnectPacket['will']
  readonly properties?: IConnectPacket['properties']
}

/** A CONNECT: clean session / clean start unless told otherwise, keep-alive 60 s. */
export function connectPacket(version: Version, options: ConnectOptions): Buffer {
  return encode(
    {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: version,
      clean: options.clean ?? true,
      keepalive: options.keepalive ?? 60,
      ...options,
    },
    version,
  )
}

/** The CONNACK a successful connect gets: exact on 3.1.1, properties left open on 5. */
export function connackPrefix(version: Version, sessionPresent: boolean): string {
  const flags = sessionPresent ? '01' : '00'
  return version === 4 ? `20 02 ${flags} 00` : `20 xx ${flags} 00`
}

/** Opens a connection, sends CONNECT and checks the CONNACK accepts it. */
export async function connectClient(
  port: number,
  version: Version,
  options: ConnectOptions,
  sessionPresent = false,
): Promise<RawClient> {
  const client = await RawClient.connect(port)
  client.send(connectPacket(version, options))
  await client.expectPacket(connackPrefix(version, sessionPresent))
  return client
}

/** Hex of a UTF-8 string with its two-byte length, as MQTT strings are encoded. */
export function mqttString(s: string | Buffer): string {
  const bytes = typeof s === 'string' ? Buffer.from(s) : s
  const len = Buffer.alloc(2)
  len.writeUInt16BE(bytes.length)
  return Buffer.concat([len, bytes]).toString('hex')
}

/** A fixed header byte and remaining length in front of a body. */
export function frame(firstByte: number, body: Buffer): Buffer {
  const len: number[] = []
  let n = body.length
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    len.push(b)
  } while (n > 0)
  return Buffer.concat([Buffer.from([firstByte, ...len]), body])
}
