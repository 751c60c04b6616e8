/**
 * A bystander for hostile-input tests: a client that stays connected through an attack, and a
 * check that it still gets messages afterwards from a client that connects after the attack.
 */
import { connectClient, encode } from '../conformance/packets.js'
import type { RawClient } from '../conformance/raw-client.js'
import type { ChildBroker } from './child-broker.js'

let witnesses = 0

export class Witness {
  private readonly broker: ChildBroker
  private readonly subscriber: RawClient
  private readonly topic: string
  private readonly pinger: NodeJS.Timeout
  private checks = 0

  private constructor(broker: ChildBroker, subscriber: RawClient, topic: string) {
    this.broker = broker
    this.subscriber = subscriber
    this.topic = topic
    // PINGREQ twice a second: the witness stays up on brokers that bound the keep-alive.
    this.pinger = setInterval(() => subscriber.send('c0 00'), 500)
  }

  /** Connects an MQTT 5 subscriber to `witness/<n>` (keep-alive off). */
  static async open(broker: ChildBroker): Promise<Witness> {
    const n = String(++witnesses)
    const topic = `witness/${n}`
    const subscriber = await connectClient(broker.port, 5, {
      clientId: `witness-${n}`,
      keepalive: 0,
    })
    subscriber.send(
      encode({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] }, 5),
    )
    await subscriber.expect('90 04 00 01 00 01')
    return new Witness(broker, subscriber, topic)
  }

  /**
   * Fails unless the broker process is alive, accepts a new connection, and routes a QoS 1
   * message from it to the subscriber that was connected all along.
   */
  async check(): Promise<void> {
    if (!this.broker.alive) throw new Error(this.broker.describeExit())
    const k = String(++this.checks)
    const publisher = await connectClient(this.broker.port, 4, {
      clientId: `${this.topic.replace('/', '-')}-pub-${k}`,
    })
    try {
      const payload = `still here ${k}`
      publisher.send(
        encode(
          {
            cmd: 'publish',
            topic: this.topic,
            payload,
            qos: 1,
            messageId: 7,
            retain: false,
            dup: false,
          },
          4,
        ),
      )
      await publisher.expect('40 02 00 07', 2000)
      let delivered = await this.subscriber.readPacket(2000)
      while (delivered.equals(Buffer.from([0xd0, 0x00])))
        delivered = await this.subscriber.readPacket(2000)
      const expected = encode(
        {
          cmd: 'publish',
          topic: this.topic,
          payload,
          qos: 1,
          messageId: 0,
          retain: false,
          dup: false,
        },
        5,
      )
      // Same packet but for the packet id the broker chose (bytes after the topic).
      const idAt = 2 + 2 + Buffer.byteLength(this.topic)
      if (
        delivered[0] !== 0x32 ||
        !delivered.subarray(idAt + 2).equals(expected.subarray(idAt + 2))
      )
        throw new Error(`the witness got ${delivered.toString('hex')} instead of its message`)
      this.subscriber.send(
        Buffer.from([0x40, 0x02, delivered[idAt] ?? 0, delivered[idAt + 1] ?? 0]),
      )
    } finally {
      await publisher.destroyed()
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pinger)
    await this.subscriber.destroyed()
  }
}
