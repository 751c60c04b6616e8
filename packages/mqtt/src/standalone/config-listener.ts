import type { ListenerConfig } from './broker-config-schema.js'
import { fail } from './config-line.js'
import type { ListenerDraft } from './config-options.js'

/** Turns a listener block into its config, refusing TLS settings that could not work. */
export function buildListener(l: ListenerDraft): ListenerConfig {
  const base: ListenerConfig = {
    port: l.port,
    ...(l.host === undefined ? {} : { host: l.host }),
    protocol: l.protocol,
    ...(l.maxConnections === undefined ? {} : { maxConnections: l.maxConnections }),
    maxQos: l.maxQos,
  }
  const tlsAsked =
    l.ca !== undefined ||
    l.requireCertificate !== undefined ||
    l.useIdentityAsUsername !== undefined ||
    l.minVersion !== undefined
  if (l.cert === undefined && l.key === undefined) {
    if (tlsAsked) {
      fail(
        l.at,
        `TLS listener ${label(l)} has no certfile and keyfile`,
        'Add certfile and keyfile after the listener line, or remove its TLS options.',
      )
    }
    return base
  }
  return { ...base, tls: buildTls(l) }
}

function buildTls(l: ListenerDraft): NonNullable<ListenerConfig['tls']> {
  // mosquitto.conf(5) certfile: "This option and keyfile must be present to enable certificate based TLS".
  if (l.cert === undefined || l.key === undefined) {
    fail(
      l.at,
      `TLS listener ${label(l)} has ${l.cert === undefined ? 'a keyfile but no certfile' : 'a certfile but no keyfile'}`,
      'Give both certfile and keyfile.',
    )
  }
  checkClientCertificates(l)
  return {
    ...(l.ca === undefined ? {} : { ca: l.ca }),
    cert: l.cert,
    key: l.key,
    requireCertificate: l.requireCertificate ?? false,
    useIdentityAsUsername: l.useIdentityAsUsername ?? false,
    minVersion: l.minVersion ?? 'TLSv1.2',
  }
}

/** Refuses client certificate settings that would not be enforced. */
function checkClientCertificates(l: ListenerDraft): void {
  // mosquitto.conf(5) protocol: with websockets "only the cafile, certfile, keyfile, ciphers, and
  // ciphers_tls1.3 options are supported"; Mosquitto ignores the others there, we refuse them.
  const wsOnly = ['require_certificate', 'use_identity_as_username', 'tls_version']
  const unsupportedOnWs = wsOnly.find((o) => l.seen.has(o))
  if (l.protocol === 'websockets' && unsupportedOnWs !== undefined) {
    fail(
      l.at,
      `${unsupportedOnWs} is not supported on websockets listener ${label(l)}`,
      'Use an mqtt listener for client certificates; websockets take cafile, certfile and keyfile.',
      'unsupported',
    )
  }
  if (l.requireCertificate === true && l.ca === undefined) {
    fail(
      l.at,
      `listener ${label(l)} has require_certificate true but no cafile`,
      'Name the CA that issues client certificates with cafile; without it any public CA would do.',
    )
  }
  if (l.useIdentityAsUsername === true && l.requireCertificate !== true) {
    fail(
      l.at,
      `listener ${label(l)} has use_identity_as_username true without require_certificate true`,
      'mosquitto.conf(5): the certificate CN is the user name only when a certificate is required.',
    )
  }
}

/** `HOST:PORT` for messages, `*` for every interface. */
function label(l: ListenerDraft): string {
  return l.host === undefined ? `*:${String(l.port)}` : hostPort(l.host, l.port)
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${String(port)}` : `${host}:${String(port)}`
}
