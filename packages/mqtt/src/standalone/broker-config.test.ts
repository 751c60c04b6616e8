import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defaultBrokerConfig, type BrokerConfig } from './broker-config-schema.js'
import { parseBrokerConfig } from './broker-config.js'
import { ConfigError } from './config-error.js'

const file = '/etc/strata/broker.conf'
const parse = (text: string): BrokerConfig => parseBrokerConfig(text, file)

/** Asserts that parsing fails with a ConfigError whose message matches. */
function rejects(text: string, message: RegExp, code = 'MQTT_CONFIG_INVALID'): ConfigError {
  try {
    parse(text)
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    assert.equal(err.code, code)
    assert.match(err.message, message)
    assert.ok(err.hint === undefined || err.hint.length > 0)
    return err
  }
  assert.fail(`parsed without error: ${text}`)
}

describe('parseBrokerConfig', () => {
  it('defaults to no listeners and anonymous access off, without a file or in an empty one', () => {
    assert.deepEqual(defaultBrokerConfig.listeners, [])
    assert.equal(defaultBrokerConfig.allowAnonymous, false)
    assert.deepEqual(parse('# nothing but comments\n\n   \n'), defaultBrokerConfig)
  })

  it('reads every supported option', () => {
    const config = parse(
      [
        'per_listener_settings false',
        'allow_anonymous true',
        'password_file /etc/strata/passwd',
        'acl_file acl/strata.acl',
        'persistence true',
        'persistence_location /var/lib/strata/',
        'max_packet_size 1048576',
        'message_size_limit 65536',
        'max_inflight_messages 50',
        'max_queued_messages 500',
        'max_keepalive 300',
        'set_tcp_nodelay true',
        'sys_interval 0',
        'retain_available false',
        'log_dest stdout',
        'log_type error',
        'log_type warning',
        'listener 1883 127.0.0.1',
        'max_connections 100',
        'max_qos 1',
        'listener 8883',
        'protocol mqtt',
        'cafile ca.pem',
        'certfile /etc/strata/server.crt',
        'keyfile /etc/strata/server.key',
        'require_certificate true',
        'use_identity_as_username true',
        'tls_version tlsv1.3',
        'listener 8443 ::',
        'protocol websockets',
        'certfile /etc/strata/server.crt',
        'keyfile /etc/strata/server.key',
      ].join('\n'),
    )
    assert.deepEqual(config, {
      listeners: [
        { port: 1883, host: '127.0.0.1', protocol: 'mqtt', maxConnections: 100, maxQos: 1 },
        {
          port: 8883,
          protocol: 'mqtt',
          maxQos: 2,
          tls: {
            ca: '/etc/strata/ca.pem',
            cert: '/etc/strata/server.crt',
            key: '/etc/strata/server.key',
            requireCertificate: true,
            useIdentityAsUsername: true,
            minVersion: 'TLSv1.3',
          },
        },
        {
          port: 8443,
          host: '::',
          protocol: 'websockets',
          maxQos: 2,
          tls: {
            cert: '/etc/strata/server.crt',
            key: '/etc/strata/server.key',
            requireCertificate: false,
            useIdentityAsUsername: false,
            minVersion: 'TLSv1.2',
          },
        },
      ],
      allowAnonymous: true,
      passwordFile: '/etc/strata/passwd',
      aclFile: '/etc/strata/acl/strata.acl',
      persistence: { enabled: true, location: '/var/lib/strata' },
      limits: {
        maxPacketBytes: 1_048_576,
        maxPayloadBytes: 65_536,
        maxInflightMessages: 50,
        maxQueuedMessages: 500,
        maxKeepaliveSec: 300,
      },
      retainAvailable: false,
      tcpNoDelay: true,
      sysIntervalSec: 0,
      logLevel: 'warn',
      logDestinations: [{ kind: 'stdout' }],
      ignored: [],
    })
  })

  it('resolves relative paths against the directory of the config file', () => {
    const config = parseBrokerConfig(
      'password_file ../secrets/passwd\nacl_file acl',
      '/srv/b/broker.conf',
    )
    assert.equal(config.passwordFile, '/srv/secrets/passwd')
    assert.equal(config.aclFile, '/srv/b/acl')
  })

  it('accepts CRLF line endings, tabs and indented comments', () => {
    const config = parse('listener\t1883\r\n  # indented comment\r\nallow_anonymous   true\r\n')
    assert.equal(config.listeners[0]?.port, 1883)
    assert.equal(config.allowAnonymous, true)
  })

  it('maps log_type to the most verbose level asked for', () => {
    assert.equal(parse('').logLevel, 'info')
    assert.equal(parse('log_type error').logLevel, 'error')
    assert.equal(parse('log_type error\nlog_type notice').logLevel, 'info')
    assert.equal(parse('log_type all').logLevel, 'debug')
    assert.equal(parse('log_type debug\nlog_type none').logLevel, 'silent')
    assert.equal(parse('log_type none\nlog_type warning').logLevel, 'warn')
    assert.equal(parse('log_dest none\nlog_type debug').logLevel, 'silent')
  })

  it('collects log_dest lines; none clears them; one file only', () => {
    assert.deepEqual(
      parse('log_dest stdout\nlog_dest file logs/b.log\nlog_dest stdout').logDestinations,
      [{ kind: 'stdout' }, { kind: 'file', path: '/etc/strata/logs/b.log' }],
    )
    assert.deepEqual(parse('log_dest stdout\nlog_dest none').logDestinations, [])
    rejects('log_dest file a.log\nlog_dest file b.log', /:2: only one log_dest file/)
    rejects('log_dest syslog', /:1: log_dest syslog is not supported/)
  })

  it("maps Mosquitto's 0 and -1 (no limit) values", () => {
    const config = parse(
      'message_size_limit 0\nmax_inflight_messages 0\nlistener 1883\nmax_connections -1',
    )
    assert.equal(config.limits.maxPayloadBytes, undefined)
    assert.equal(config.limits.maxInflightMessages, 65_535)
    assert.equal(config.listeners[0]?.maxConnections, undefined)
    rejects('max_queued_messages 0', /:1: max_queued_messages 0 \(no maximum\) is not supported/)
  })

  it('reports harmless options it ignores, with where they are', () => {
    assert.deepEqual(parse('\npid_file /run/mosquitto.pid').ignored, [
      {
        option: 'pid_file',
        where: `${file}:2`,
        reason: 'Strata writes no pid file; your service manager tracks the process.',
      },
    ])
  })

  it('refuses an unknown option with file, line and a suggestion', () => {
    const err = rejects(
      'listener 1883\nalow_anonymous true',
      /^\/etc\/strata\/broker\.conf:2: unknown option "alow_anonymous"$/,
    )
    assert.equal(err.hint, 'Did you mean "allow_anonymous"?')
    assert.deepEqual(err.details, { file, line: 2, option: 'alow_anonymous', problem: 'unknown' })
  })

  it('refuses Mosquitto options Strata does not support, naming them as unsupported', () => {
    for (const [line, option] of [
      ['per_listener_settings true', 'per_listener_settings'],
      ['auth_plugin /usr/lib/auth.so', 'auth_plugin'],
      ['auth_opt_backend mysql', 'auth_opt_backend'],
      ['psk_file /etc/psk', 'psk_file'],
      ['crlfile /etc/crl.pem', 'crlfile'],
      ['capath /etc/ssl/certs', 'capath'],
      ['use_subject_as_username true', 'use_subject_as_username'],
      ['use_username_as_clientid true', 'use_username_as_clientid'],
      ['clientid_prefixes secure-', 'clientid_prefixes'],
      ['mount_point tenant/', 'mount_point'],
      ['port 1883', 'port'],
      ['connection bridge-1', 'connection'],
      ['user mosquitto', 'user'],
    ] as const) {
      const err = rejects(
        `allow_anonymous false\n${line}`,
        new RegExp(`:2: .*${option}.* not supported`),
      )
      assert.equal((err.details as { problem: string }).problem, 'unsupported', line)
    }
  })

  it('refuses a TLS listener without certfile and keyfile', () => {
    rejects(
      'listener 8883\ncafile ca.pem\nrequire_certificate true',
      /:1: TLS listener \*:8883 has no certfile and keyfile/,
    )
    rejects(
      'listener 8883\nkeyfile k.pem',
      /:1: TLS listener \*:8883 has a keyfile but no certfile/,
    )
    rejects(
      'listener 8883\ncertfile c.pem',
      /:1: TLS listener \*:8883 has a certfile but no keyfile/,
    )
  })

  it('refuses client certificate options that could not be enforced', () => {
    rejects(
      'listener 8883\ncertfile c\nkeyfile k\nrequire_certificate true',
      /require_certificate true but no cafile/,
    )
    rejects(
      'listener 8883\ncertfile c\nkeyfile k\ncafile ca\nuse_identity_as_username true',
      /use_identity_as_username true without require_certificate true/,
    )
    rejects(
      'listener 8883\ncertfile c\nkeyfile k\ntls_version tlsv1.1',
      /:4: tls_version tlsv1.1 is not supported/,
    )
    // mosquitto.conf(5): websockets support "only the cafile, certfile, keyfile, ciphers" options.
    const err = rejects(
      'listener 8883\nprotocol websockets\ncertfile c\nkeyfile k\ncafile ca\nrequire_certificate true',
      /:1: require_certificate is not supported on websockets listener \*:8883/,
    )
    assert.equal((err.details as { problem: string }).problem, 'unsupported')
    rejects(
      'listener 8883 ::1\nprotocol websockets\ncertfile c\nkeyfile k\ntls_version tlsv1.3',
      /websockets listener \[::1\]:8883/,
    )
  })

  it('refuses listener options outside a listener block', () => {
    rejects(
      'certfile server.crt',
      /:1: certfile configures a listener and must follow a "listener PORT" line/,
    )
  })

  it('refuses bad values with the option and line', () => {
    rejects('allow_anonymous yes', /:1: allow_anonymous must be true or false, not "yes"/)
    rejects('max_packet_size 10', /:1: max_packet_size must be an integer from 20 to 268435460/)
    rejects('max_keepalive 5', /:1: max_keepalive must be an integer from 10 to 65535/)
    rejects('sys_interval 12abc', /:1: sys_interval must be an integer/)
    rejects('listener 1883\nmax_qos 3', /:2: max_qos must be an integer from 0 to 2/)
    rejects('listener 1883\nprotocol http', /:2: protocol must be one of mqtt, websockets/)
    rejects('listener http', /:1: listener must be an integer from 0 to 65535/)
    rejects('listener 1883 0.0.0.0 extra', /:1: listener takes a port and an optional bind address/)
    rejects(
      'listener 0 /run/mqtt.sock',
      /:1: listener 0 \/run\/mqtt.sock is a unix socket listener/,
    )
    rejects('password_file', /:1: password_file needs a path/)
    rejects('retain_available true false', /:1: retain_available takes one value/)
  })

  it('refuses options given twice, naming both places', () => {
    rejects(
      'password_file a\n\npassword_file b',
      /:3: password_file is given twice \(first at \/etc\/strata\/broker\.conf:1\)/,
    )
    rejects('allow_anonymous false\nallow_anonymous true', /:2: allow_anonymous is given twice/)
    rejects(
      'listener 1883\ncertfile a\ncertfile b',
      /:3: certfile is given twice for the listener at/,
    )
    rejects('listener 1883\nlistener 1883', /:2: listener 1883 is declared twice/)
  })
})
