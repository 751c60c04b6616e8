import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseBrokerConfig } from './broker-config.js'
import { matchListener } from './listener-match.js'

const { listeners } = parseBrokerConfig(
  [
    'listener 1883',
    'listener 1884 127.0.0.1',
    'listener 1884 ::1',
    'listener 8883',
    'certfile c',
    'keyfile k',
    'listener 8080',
    'protocol websockets',
    'listener 8443',
    'protocol websockets',
    'certfile c',
    'keyfile k',
  ].join('\n'),
  '/etc/strata/broker.conf',
)

describe('matchListener', () => {
  it('finds the listener by transport, host and port in the URLs the broker reports', () => {
    const cases: [string, number | undefined][] = [
      ['mqtt://0.0.0.0:1883', 0],
      ['mqtt://127.0.0.1:1884', 1],
      ['mqtt://[::1]:1884', 2],
      ['mqtt://::1:1884', 2],
      ['mqtts://0.0.0.0:8883', 3],
      ['ws://0.0.0.0:8080/mqtt', 4],
      ['wss://0.0.0.0:8443/mqtt', 5],
    ]
    for (const [url, index] of cases) {
      assert.equal(
        matchListener(listeners, url),
        index === undefined ? undefined : listeners[index],
        url,
      )
    }
  })

  it('finds nothing for another transport, host or port, or a URL it cannot read', () => {
    for (const url of [
      'mqtts://0.0.0.0:1883',
      'ws://0.0.0.0:1883/mqtt',
      'mqtt://0.0.0.0:8883',
      'mqtt://10.0.0.1:1884',
      'mqtt://0.0.0.0:1999',
      'tcp://0.0.0.0:1883',
      '*:1883',
    ]) {
      assert.equal(matchListener(listeners, url), undefined, url)
    }
  })
})
