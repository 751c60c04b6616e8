/**
 * A small simulated fleet against a broker that enforces the device protocol: every device
 * reports telemetry the cloud accepts, answers commands (MQTT 5 response topic and 3.1.1
 * `commands/response/{id}`), applies a desired reporting period from its twin, and keeps its
 * figures consistent.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFleet, type FleetStats } from '../../src/index.js'
import type { CommandResponse } from '@strata/protocol'
import {
  anonymous,
  eventually,
  sleep,
  startProtocolBroker,
  type Received,
} from './protocol-broker.js'

const opts = { timeout: 20_000 }

function responseOf(r: Received): CommandResponse {
  if (r.message?.kind !== 'command.response') throw new Error(`not a command response: ${r.topic}`)
  return r.message.response
}

function statesSum(s: FleetStats): number {
  return s.connected + s.connecting + s.sleeping + s.offline + s.poweredOff
}

describe('a simulated fleet', () => {
  it('reports telemetry the protocol accepts, from every device', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({
      brokerUrl: b.url,
      identities: anonymous(8),
      connectsPerSecond: 500,
      seed: 7,
      profile: {
        reportEveryS: 0.1,
        readingsPerMessage: 3,
        format: 'cbor',
        signals: {
          temp: {
            type: 'float',
            base: 20,
            noise: 0.5,
            decimals: 2,
            daily: { amplitude: 2, peakHour: 14 },
          },
          pulses: { type: 'counter', ratePerS: 20 },
          door: { type: 'boolean', trueShare: 0.5, changesPerHour: 3600 },
          mode: { type: 'enum', values: ['eco', 'comfort'], changesPerHour: 3600 },
        },
      },
    })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(
      () => fleet.stats().acked >= 8 * 6,
      5_000,
      () => JSON.stringify(fleet.stats()),
    )
    const running = fleet.stats()
    assert.equal(statesSum(running), 8)
    assert.equal(running.connected, 8)
    const final = await fleet.close()
    assert.equal(final.refused, 0, JSON.stringify(final.errors))
    assert.deepEqual(final.errors, {})
    assert.equal(final.unacked, 0)
    assert.equal(final.acked, final.messagesSent)
    assert.equal(statesSum(final), 8)
    const telemetry = b.received.filter((r) => r.kind === 'telemetry')
    assert.equal(telemetry.length, final.telemetrySent)
    assert.ok(
      telemetry.every((r) => r.refused === undefined && r.topic.endsWith('/telemetry/cbor')),
    )
    for (let i = 0; i < 8; i++) assert.ok(b.of(`sim-${String(i)}`, 'telemetry').length >= 2)
    let points = 0
    for (const r of telemetry) {
      const records = r.message?.kind === 'telemetry' ? r.message.records : []
      // Three readings per message; readings kept while connecting go out later in one batch.
      assert.equal(records.length % 3, 0, 'whole periods of three readings')
      for (const record of records) {
        points += Object.keys(record.values).length
        const temp = record.values['temp'] as number
        assert.equal(Math.round(temp * 100) / 100, temp, `${String(temp)} has two decimals at most`)
        assert.ok(['eco', 'comfort'].includes(record.values['mode'] as string))
        assert.equal(typeof record.values['door'], 'boolean')
        assert.equal(typeof record.ts, 'number')
      }
      const ts = records.map((rec) => rec.ts as number)
      assert.ok(
        ts.every((x, i) => i === 0 || x > ts[i - 1]!),
        'readings are spaced over the period',
      )
    }
    assert.equal(points, final.pointsSent)
  })

  for (const version of [5, 4] as const) {
    it(`answers commands on MQTT ${version === 5 ? '5' : '3.1.1'}`, opts, async (t) => {
      const b = await startProtocolBroker(t)
      const fleet = createFleet({
        brokerUrl: b.url,
        identities: anonymous(1),
        protocolVersion: version,
        profile: { reportEveryS: 60, rebootS: 0.1 },
      })
      t.after(() => fleet.close())
      fleet.start()
      await eventually(
        () => fleet.stats().connected === 1 && fleet.stats().acked >= 1,
        6_000,
        'connected',
      )
      await sleep(100) // the SUBACK
      const base = 'strata/v1/devices/sim-0'
      const send = (name: string, id: string, v5Response: boolean) =>
        b.broker.publish({
          topic: `${base}/commands/request/${name}`,
          payload: JSON.stringify({ id, params: {} }),
          qos: 1,
          ...(v5Response
            ? {
                properties: {
                  responseTopic: `${base}/commands/response/${id}`,
                  correlationData: Buffer.from(`corr-${id}`),
                },
              }
            : {}),
        })
      await send('ping', 'c-1', version === 5)
      await send('selfdestruct', 'c-2', false)
      await eventually(() => b.of('sim-0', 'command.response').length === 2, 6_000, 'two answers')
      const [ping, unknown] = b.of('sim-0', 'command.response')
      assert.equal(ping!.topic, `${base}/commands/response/c-1`)
      const pingBody = responseOf(ping!)
      assert.equal(pingBody.status, 'succeeded')
      assert.equal(pingBody.result?.['firmware'], '1.0.0')
      if (version === 5) assert.equal(ping!.correlationData?.toString(), 'corr-c-1')
      const unknownBody = responseOf(unknown!)
      assert.equal(unknownBody.status, 'failed')
      assert.equal(unknownBody.error?.code, 'UNKNOWN_COMMAND')
      await send('reboot', 'c-3', false)
      await eventually(() => fleet.stats().reboots === 1, 6_000, 'the reboot')
      await eventually(
        () => (b.connects.get('sim-0') ?? 0) === 2 && fleet.stats().connected === 1,
        5_000,
        'back after the reboot',
      )
      const s = fleet.stats()
      assert.equal(s.commandsAnswered, 3)
      assert.equal(s.received, 3)
      assert.equal(fleet.device('sim-0')?.counters.reboots, 1)
    })
  }

  it('applies a desired reporting period from the twin and reports it back', opts, async (t) => {
    const b = await startProtocolBroker(t)
    const fleet = createFleet({
      brokerUrl: b.url,
      identities: anonymous(1),
      profile: { reportEveryS: 30 },
    })
    t.after(() => fleet.close())
    fleet.start()
    await eventually(() => fleet.stats().connected === 1, 6_000, 'connected')
    await sleep(100)
    await b.broker.publish({
      topic: 'strata/v1/devices/sim-0/twin/desired',
      payload: JSON.stringify({ version: 2, desired: { reportEveryS: 0.1 } }),
      qos: 1,
    })
    await eventually(() => b.of('sim-0', 'telemetry').length >= 5, 6_000, 'faster reports')
    assert.equal(fleet.device('sim-0')?.reportEveryS, 0.1)
    const reported = b.of('sim-0', 'twin.reported').map((r) => JSON.parse(r.payload.toString()))
    assert.deepEqual(reported.at(-1), { reportEveryS: 0.1 })
    assert.deepEqual(reported[0], { firmware: '1.0.0', reportEveryS: 30 })
  })

  it('refuses options that cannot work, naming them', () => {
    const profile = {}
    assert.throws(() => createFleet({ brokerUrl: 'http://x', identities: [], profile }), {
      code: 'DEVICE_FLEET_OPTIONS_INVALID',
      message: /not mqtt:\/\/ or mqtts:\/\//,
    })
    assert.throws(
      () =>
        createFleet({
          brokerUrl: 'mqtt://127.0.0.1:1',
          identities: [...anonymous(1), ...anonymous(1)],
          profile,
        }),
      { code: 'DEVICE_FLEET_OPTIONS_INVALID', message: /appears twice/ },
    )
    assert.throws(
      () =>
        createFleet({
          brokerUrl: 'mqtt://127.0.0.1:1',
          identities: [],
          profile: { reportEveryS: -1 },
        }),
      { code: 'DEVICE_PROFILE_INVALID', message: /\/reportEveryS/ },
    )
  })
})
