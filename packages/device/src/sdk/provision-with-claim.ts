import { decoder, isDeviceId, ProvisioningResponse, provisioningTopics } from '@strata/protocol'
import mqtt, { type MqttClient } from 'mqtt'
import pino, { type Logger } from 'pino'
import { DeviceError } from '../errors.js'
import { createKeyAndCsr } from '../identity/device-key.js'
import { encodeJson } from './cloud-payload.js'
import { parseBrokerUrl } from './device-client-options.js'
import { endClient } from './device-connection.js'
import type { DeviceIdentity } from './device-identity.js'
import { mqttClientOptions } from './mqtt-client-options.js'
import { classifyConnectRefusal, describeReasonCode } from './reason-codes.js'
import { errorMessage } from './twin-client.js'

/** What claim-based provisioning needs (docs/protocol.md §6.5). */
export interface ProvisionOptions {
  /** The broker, `mqtts://host:port` in production (`mqtt://` works where allowed). */
  readonly url: string
  /** CA certificates (PEM) to trust for `mqtts://`; absent: the system's trust store. */
  readonly caPem?: string
  /** The claim token the device shipped with. */
  readonly claimToken: string
  /** The device's serial number: its MQTT client id now and its device id from then on. */
  readonly serial: string
  /** Registry attributes to ask for (e.g. `{ site: 'berlin' }`), up to 32. */
  readonly attributes?: Readonly<Record<string, string>>
  /** How long the whole exchange may take; default 30 s. */
  readonly timeoutMs?: number
  readonly protocolVersion?: 4 | 5
}

const decodeResponse = decoder(ProvisioningResponse)

/**
 * Provisions a device with a claim token: makes a P-256 key and a CSR on the device, connects
 * with client id = user name = `serial` and the claim token as password, publishes the CSR to
 * `strata/v1/provisioning/{serial}/request` and waits for the certificate on `…/response`. The
 * private key never leaves the device. Save the result with `saveIdentity` and connect with it
 * from then on; claim tokens are limited in uses.
 *
 * @example
 * const identity = await provisionWithClaim({ url: 'mqtts://strata.example:8883', caPem, claimToken, serial: 'SN-0042' })
 * await saveIdentity('/var/lib/strata', identity)
 * const client = createDeviceClient({ url, deviceId: identity.deviceId, caPem: identity.caChainPem,
 *   credentials: { certificatePem: identity.certificatePem, privateKeyPem: identity.privateKeyPem } })
 */
export async function provisionWithClaim(
  options: ProvisionOptions,
  deps: { readonly logger?: Logger } = {},
): Promise<DeviceIdentity> {
  const url = parseBrokerUrl(options.url)
  if (!isDeviceId(options.serial)) {
    throw new DeviceError(
      'DEVICE_CLIENT_OPTIONS_INVALID',
      `serial ${JSON.stringify(options.serial)} cannot be a device id`,
      {
        hint: 'The serial becomes the device id: 1–64 of A–Z a–z 0–9 . _ : -, starting with a letter or digit.',
      },
    )
  }
  if (options.claimToken === '') {
    throw new DeviceError('DEVICE_CLIENT_OPTIONS_INVALID', 'claimToken is empty', {
      hint: 'Pass the claim token the device shipped with.',
    })
  }
  const log = (deps.logger ?? pino({ level: 'silent' })).child({
    component: 'device-provisioning',
    serial: options.serial,
  })
  const timeoutMs = options.timeoutMs ?? 30_000
  const protocolVersion = options.protocolVersion ?? 5
  const { keyPem, csrPem } = await createKeyAndCsr(options.serial)
  const topics = provisioningTopics(options.serial)
  const client = mqtt.connect(
    mqttClientOptions({
      url,
      clientId: options.serial,
      credentials: { username: options.serial, password: options.claimToken },
      caPem: options.caPem,
      protocolVersion,
      sessionExpiryS: undefined,
      keepAliveS: 60,
      connectTimeoutMs: timeoutMs,
    }),
  )
  try {
    const reply = await exchange(client, {
      responseTopic: topics.response,
      requestTopic: topics.request,
      request: encodeJson(
        {
          csr: csrPem,
          serial: options.serial,
          ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
        },
        'provisioning request',
      ),
      timeoutMs,
      protocolVersion,
    })
    const response = decodeResponse(reply, 'provisioning response')
    if (response.status === 'error') {
      throw new DeviceError(
        'DEVICE_PROVISIONING_FAILED',
        `provisioning refused: ${response.error.code}: ${response.error.message}`,
        {
          hint: 'Check the claim token (not expired, uses left, not revoked) and that the serial is not already a registered device.',
          details: { code: response.error.code },
        },
      )
    }
    log.info({ deviceId: response.deviceId }, 'provisioned')
    return {
      deviceId: response.deviceId,
      certificatePem: response.certificate,
      privateKeyPem: keyPem,
      caChainPem: response.caChain.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join(''),
    }
  } finally {
    await endClient(client, client.connected, 2_000)
  }
}

interface Exchange {
  readonly requestTopic: string
  readonly responseTopic: string
  readonly request: Uint8Array
  readonly timeoutMs: number
  readonly protocolVersion: 4 | 5
}

/** Connect, subscribe to the reply topic, publish the request, and resolve with the decoded reply. */
export function exchange(client: MqttClient, x: Exchange): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    let settled = false
    const finish = (err: Error | undefined, value?: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (err === undefined) resolve(value)
      else reject(err)
    }
    const timer = setTimeout(
      () =>
        finish(
          new DeviceError(
            'DEVICE_TIMEOUT',
            `no reply on ${x.responseTopic} within ${String(x.timeoutMs)} ms`,
            {
              hint: 'Check the URL and that the broker is a Strata node; then try again.',
              retryable: true,
            },
          ),
        ),
      x.timeoutMs,
    )
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code
      if (typeof code === 'number' && err.message.startsWith('Connection refused')) {
        const refusal = classifyConnectRefusal(code, x.protocolVersion)
        finish(
          new DeviceError(
            'DEVICE_PROVISIONING_FAILED',
            `the broker refused the claim connection: ${refusal.description}`,
            {
              hint: refusal.fatal
                ? 'The claim token is not valid, expired, used up or revoked: ask for a new one.'
                : refusal.hint,
              retryable: !refusal.fatal,
              details: { reasonCode: code },
            },
          ),
        )
      } else {
        finish(
          new DeviceError('DEVICE_PROVISIONING_FAILED', `cannot reach the broker: ${err.message}`, {
            hint: 'Check the URL, the network and the CA (caPem).',
            retryable: true,
            cause: err,
          }),
        )
      }
    })
    client.on('close', () =>
      finish(
        new DeviceError(
          'DEVICE_PROVISIONING_FAILED',
          'the broker closed the connection before replying',
          {
            hint: 'Check the claim token and the serial; the broker log says why.',
            retryable: true,
          },
        ),
      ),
    )
    client.on('message', (topic, payload) => {
      if (topic !== x.responseTopic) return
      try {
        finish(undefined, JSON.parse(payload.toString('utf8')))
      } catch (err) {
        finish(
          new DeviceError(
            'DEVICE_PROVISIONING_FAILED',
            `the reply is not JSON: ${errorMessage(err)}`,
            { cause: err },
          ),
        )
      }
    })
    client.on('connect', () => {
      client.subscribe(x.responseTopic, { qos: 1 }, (err, granted) => {
        const code = granted?.[0]?.qos ?? 0
        if (err !== null || (code & 0x80) !== 0) {
          finish(
            new DeviceError(
              'DEVICE_SUBSCRIBE_REFUSED',
              `the broker refused the subscription ${x.responseTopic} (${describeReasonCode(code)})`,
              {
                hint: 'The client id must equal the serial the topics are named after.',
              },
            ),
          )
          return
        }
        client.publish(x.requestTopic, Buffer.from(x.request), { qos: 1 }, (_err, packet) => {
          // A refusal comes as an error with the PUBACK; its reason code says all.
          const rc = packet?.cmd === 'puback' ? (packet.reasonCode ?? 0) : 0
          if (rc < 0x80) return
          const why = packet?.cmd === 'puback' ? packet.properties?.reasonString : undefined
          // The cloud publishes its reply before this PUBACK, so an answer already arrived if there is one.
          finish(
            new DeviceError(
              'DEVICE_PROVISIONING_FAILED',
              `the broker refused the request: ${describeReasonCode(rc)}${why === undefined ? '' : ` (${why})`}`,
              {
                hint: 'The reason says what to fix.',
                details: { reasonCode: rc },
              },
            ),
          )
        })
      })
    })
    client.connect()
  })
}
