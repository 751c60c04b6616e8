import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { connect, pathOf, type ApiClient, type RemoteFlags } from './api-client.js'
import {
  emit,
  fields,
  parseDays,
  remoteVerb,
  table,
  when,
  type NodeVerbContext,
} from './api-output.js'
import { readInput } from './read-input.js'

interface DeviceToken {
  readonly id: string
  readonly deviceId: string
  readonly createdAt: number
  readonly expiresAt: number | null
  readonly revokedAt: number | null
  readonly lastUsedAt: number | null
}

/** A new device token: the secret (in this reply only) and its record. */
export interface IssuedToken {
  readonly token: string
  readonly deviceToken: DeviceToken
}

interface Certificate {
  readonly serialNumber: string
  readonly deviceId: string
  readonly fingerprintSha256: string
  readonly notBefore: number
  readonly notAfter: number
  readonly createdAt: number
  readonly revokedAt: number | null
  readonly revokeReason: string | null
}

interface IssuedCertificate {
  readonly certificate: Certificate
  readonly certificatePem: string
  readonly caChain: readonly string[]
}

type Flags = RemoteFlags & { json?: boolean }

/** Registers `strata devices token|tokens|cert|certs`. */
export function addDeviceCredentialVerbs(devices: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  remoteVerb(ctx, devices, 'token')
    .description('issue a device token (its MQTT password); shown once')
    .argument('<id>', 'the device id')
    .option('--expires-in-days <n>', 'expire after N days (default: never)', parseDays)
    .action(async (id: string, opts: Flags & { expiresInDays?: number }) => {
      const client = await connect(opts)
      const issued = await issueToken(client, id, opts.expiresInDays)
      const mqtt = opts.json === true ? undefined : await mqttEndpoint(client)
      emit(out, opts.json, issued, () => tokenText(mqtt ?? { host: '', port: '' }, id, issued))
    })

  remoteVerb(ctx, devices, 'tokens')
    .description("list a device's tokens (never their secrets)")
    .argument('<id>', 'the device id')
    .action(async (id: string, opts: Flags) => {
      const { items } = await (
        await connect(opts)
      ).get<{ items: DeviceToken[] }>(pathOf`/api/v1/devices/${id}/tokens`)
      emit(out, opts.json, { items }, () =>
        table(
          out,
          ['id', 'created', 'expires', 'last used', 'revoked'],
          items.map((t) => [
            t.id,
            when(t.createdAt),
            when(t.expiresAt),
            when(t.lastUsedAt),
            when(t.revokedAt),
          ]),
          `no tokens for ${id}`,
        ),
      )
    })

  remoteVerb(ctx, devices, 'cert')
    .description('issue a device certificate from a CSR made on the device (also how it rotates)')
    .argument('<id>', 'the device id')
    .requiredOption('--csr <file>', 'the PEM certificate request (- reads standard input)')
    .option('--out <file>', 'write the certificate PEM here (default: print it)')
    .option('--chain-out <file>', 'write the CA chain PEM here (default: print it)')
    .option('--validity-days <n>', 'validity in days (default: the node’s)', parseDays)
    .action(
      async (
        id: string,
        opts: Flags & { csr: string; out?: string; chainOut?: string; validityDays?: number },
      ) => {
        const client = await connect(opts)
        const csr = Buffer.from(await readInput(opts.csr, ctx.stdin)).toString('utf8')
        const issued = await client.post<IssuedCertificate>(
          pathOf`/api/v1/devices/${id}/certificates`,
          {
            csr,
            ...(opts.validityDays === undefined ? {} : { validityDays: opts.validityDays }),
          },
        )
        const chainPem = issued.caChain.map((pem) => `${pem.trimEnd()}\n`).join('')
        if (opts.out !== undefined) await writeFile(opts.out, issued.certificatePem)
        if (opts.chainOut !== undefined) await writeFile(opts.chainOut, chainPem)
        emit(
          out,
          opts.json,
          {
            ...issued,
            ...(opts.out === undefined ? {} : { out: opts.out }),
            ...(opts.chainOut === undefined ? {} : { chainOut: opts.chainOut }),
          },
          () => {
            const c = issued.certificate
            return [
              `issued certificate ${c.serialNumber} for ${id}`,
              fields([
                ['valid', `${when(c.notBefore)} .. ${when(c.notAfter)}`],
                ['sha-256', c.fingerprintSha256],
                ['certificate', opts.out ?? '(below)'],
                ['CA chain', opts.chainOut ?? '(below; the device trusts it for MQTTS)'],
              ]),
              ...(opts.out === undefined ? [issued.certificatePem.trimEnd()] : []),
              ...(opts.chainOut === undefined ? [chainPem.trimEnd()] : []),
            ].join('\n')
          },
        )
      },
    )

  remoteVerb(ctx, devices, 'certs')
    .description("list a device's certificates, newest first")
    .argument('<id>', 'the device id')
    .action(async (id: string, opts: Flags) => {
      const { items } = await (
        await connect(opts)
      ).get<{ items: Certificate[] }>(pathOf`/api/v1/devices/${id}/certificates`)
      emit(out, opts.json, { items }, () =>
        table(
          out,
          ['serial', 'not before', 'not after', 'revoked', 'sha-256'],
          items.map((c) => [
            c.serialNumber,
            when(c.notBefore),
            when(c.notAfter),
            c.revokedAt === null ? '-' : `${when(c.revokedAt)} ${c.revokeReason ?? ''}`.trim(),
            `${c.fingerprintSha256.slice(0, 16)}…`,
          ]),
          `no certificates for ${id}`,
        ),
      )
    })
}

/** Issues a device token. */
export function issueToken(
  client: ApiClient,
  id: string,
  expiresInDays: number | undefined,
): Promise<IssuedToken> {
  return client.post<IssuedToken>(
    pathOf`/api/v1/devices/${id}/tokens`,
    expiresInDays === undefined ? {} : { expiresInDays },
  )
}

/** Where the node's MQTT listener is, from `GET /api/v1/health`: `{ host, port }`. */
export async function mqttEndpoint(client: ApiClient): Promise<{ host: string; port: string }> {
  const health = await client.get<{ mqtt?: { url?: string } }>('/api/v1/health')
  const url = new URL(health.mqtt?.url ?? `mqtt://${new URL(client.url).hostname}:1883`)
  return { host: url.hostname, port: url.port === '' ? '1883' : url.port }
}

/** The token, once, and a mosquitto_pub line that uses it against the node's MQTT port. */
export function tokenText(
  mqtt: { host: string; port: string },
  id: string,
  issued: IssuedToken,
): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  return [
    `device token ${issued.deviceToken.id} (expires ${when(issued.deviceToken.expiresAt)}); its secret, shown only now:`,
    `  ${issued.token}`,
    'publish a reading with it (MQTT username and client id = the device id):',
    `  mosquitto_pub -h ${mqtt.host} -p ${mqtt.port} -V mqttv5 -q 1 -i ${quote(id)} -u ${quote(id)} -P ${quote(issued.token)} -t ${quote(`strata/v1/devices/${id}/telemetry`)} -m '{"temp": 21.5}'`,
  ].join('\n')
}
