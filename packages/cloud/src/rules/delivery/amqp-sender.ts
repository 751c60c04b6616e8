import { connect, type ChannelModel, type ConfirmChannel, type Message } from 'amqplib'
import type { Logger } from 'pino'
import {
  addressRefusalIn,
  assertLiteralHostAllowed,
  checkedLookup,
  type AddressPolicy,
  type ResolveHost,
} from './address-policy.js'
import { deliveryFailed, describeError, raceAbort } from './delivery-failure.js'
import type { Delivery, DeliverySender } from './delivery-sender.js'
import type { AmqpTarget } from './delivery-target.js'

export interface AmqpSenderDeps {
  readonly policy: AddressPolicy
  readonly logger?: Logger | undefined
  readonly resolve?: ResolveHost
  /** Epoch ms, for the message's `timestamp` property. */
  readonly clock: () => number
}

export interface AmqpSenderOptions {
  /** How long opening a connection may take. */
  readonly connectTimeoutMs: number
  /** How long one publish may wait for the broker's confirm (connecting included). */
  readonly publishTimeoutMs: number
}

/** One connection to a broker URL and its confirm channel (reopened when the broker closes it). */
interface AmqpLink {
  readonly model: ChannelModel
  channel: Promise<ConfirmChannel> | undefined
  /** Message ids the broker returned as unroutable; their confirm follows the return. */
  readonly returned: Set<string>
  /** The connection closed (the broker or the network ended it). */
  closed: boolean
}

/** How long `close()` waits for a broker to acknowledge the close of a connection. */
const closeTimeoutMs = 2_000

/**
 * Publishes to AMQP 0-9-1 exchanges: one connection per distinct URL, one confirm channel on
 * it, and each publish awaits the broker's confirm. Messages are `persistent` (delivery mode 2)
 * unless the target says otherwise, carry `messageId` = the delivery id, and are `mandatory`
 * unless the target says otherwise, so a message no queue receives is a failed delivery. A lost
 * connection or channel is dropped and opened again on the next publish; the outbox's backoff
 * paces the attempts.
 *
 * @example
 * const sender = createAmqpSender({ policy, clock: Date.now }, { connectTimeoutMs: 5000, publishTimeoutMs: 10000 })
 */
export function createAmqpSender(
  deps: AmqpSenderDeps,
  options: AmqpSenderOptions,
): DeliverySender<AmqpTarget> {
  const links = new Map<string, Promise<AmqpLink>>()
  // Every connection resolves its broker through the policy check (see openLink).
  const lookup = checkedLookup(deps.policy, deps.resolve)
  let closed = false
  let closing: Promise<void> | undefined

  function linkFor(url: string): Promise<AmqpLink> {
    let link = links.get(url)
    if (link === undefined) {
      link = openLink(url)
      links.set(url, link)
      link.catch(() => {
        if (links.get(url) === link) links.delete(url)
      })
    }
    return link
  }

  async function openLink(url: string): Promise<AmqpLink> {
    const where = new URL(url)
    // A name is resolved and checked by the socket's own lookup (the address checked is the
    // one connected to); an IP literal is never looked up, so it is checked here.
    assertLiteralHostAllowed(where.hostname, deps.policy)
    let model: ChannelModel
    try {
      model = await connect(url, { timeout: options.connectTimeoutMs, lookup })
    } catch (err) {
      const refusal = addressRefusalIn(err)
      if (refusal !== undefined) throw refusal
      throw deliveryFailed(`cannot connect to AMQP broker ${where.host}: ${describeError(err)}`, {
        retryable: true,
        cause: err,
      })
    }
    const link: AmqpLink = { model, channel: undefined, returned: new Set(), closed: false }
    const forget = (): void => {
      link.closed = true
      const current = links.get(url)
      void current?.then((l) => {
        if (l === link) links.delete(url)
      })
    }
    model.on('error', (err: Error) => {
      deps.logger?.warn({ broker: where.host, err: describeError(err) }, 'amqp connection error')
    })
    model.on('close', forget)
    model.on('blocked', (reason: string) => {
      deps.logger?.warn({ broker: where.host, reason }, 'amqp broker blocked publishing')
    })
    if (closed) {
      await model.close().catch(() => undefined)
      throw deliveryFailed('the AMQP sender is closed', { retryable: true })
    }
    return link
  }

  function channelOf(link: AmqpLink): Promise<ConfirmChannel> {
    if (link.channel === undefined) {
      const channel = link.model.createConfirmChannel().then((ch) => {
        ch.on('error', () => undefined) // the close that follows is what counts
        ch.on('close', () => {
          if (link.channel === channel) link.channel = undefined
        })
        ch.on('return', (message: Message) => {
          const id = (message.properties as { messageId?: unknown }).messageId
          if (typeof id === 'string') link.returned.add(id)
        })
        return ch
      })
      link.channel = channel
      channel.catch(() => {
        if (link.channel === channel) link.channel = undefined
      })
    }
    return link.channel
  }

  async function publish(delivery: Delivery<AmqpTarget>): Promise<void> {
    const { target, id } = delivery
    const link = await linkFor(target.url)
    let channel: ConfirmChannel
    try {
      channel = await channelOf(link)
    } catch (err) {
      throw deliveryFailed(`cannot open an AMQP channel: ${describeError(err)}`, {
        retryable: true,
        cause: err,
      })
    }
    const routing = `exchange ${JSON.stringify(target.exchange)} routing key ${JSON.stringify(target.routingKey)}`
    await new Promise<void>((resolve, reject) => {
      const confirmed = (err: unknown): void => {
        const unroutable = link.returned.delete(id)
        if (err !== null && err !== undefined) {
          reject(
            deliveryFailed(`AMQP publish to ${routing} failed: ${describeError(err)}`, {
              retryable: true,
              cause: err,
            }),
          )
        } else if (unroutable) {
          reject(
            deliveryFailed(`AMQP publish to ${routing} was returned: no queue is bound for it`, {
              retryable: true,
            }),
          )
        } else resolve()
      }
      try {
        // The return value only says the socket buffer is full; the outbox's concurrency limit
        // already bounds what is outstanding, so there is no 'drain' to wait for here.
        channel.publish(
          target.exchange,
          target.routingKey,
          Buffer.from(delivery.body),
          {
            persistent: target.persistent ?? true,
            mandatory: target.mandatory ?? true,
            contentType: 'application/json',
            messageId: id,
            timestamp: Math.floor(deps.clock() / 1000),
            headers: { 'x-strata-attempt': delivery.attempt },
          },
          confirmed,
        )
      } catch (err) {
        // A channel the broker just closed throws at once.
        if (link.channel !== undefined) link.channel = undefined
        confirmed(err)
      }
    })
  }

  return {
    send(delivery: Delivery<AmqpTarget>, signal: AbortSignal): Promise<void> {
      if (closed) {
        return Promise.reject(deliveryFailed('the AMQP sender is closed', { retryable: true }))
      }
      const timeout = AbortSignal.timeout(options.publishTimeoutMs)
      return raceAbort(publish(delivery), AbortSignal.any([signal, timeout]), 'AMQP publish')
    },
    close(): Promise<void> {
      closing ??= (async () => {
        closed = true
        const all = [...links.values()]
        links.clear()
        await Promise.all(
          all.map(async (pending) => {
            const link = await pending.catch(() => undefined)
            if (link !== undefined && !link.closed) await closeWithin(link.model, closeTimeoutMs)
          }),
        )
      })()
      return closing
    },
  }
}

/**
 * Closes a connection: done at the broker's CloseOk, or when the connection closes anyway (a
 * socket that died while we closed: amqplib then never calls back), or after `timeoutMs`.
 */
async function closeWithin(model: ChannelModel, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  let onClose: (() => void) | undefined
  await Promise.race([
    model.close().catch(() => undefined),
    new Promise<void>((resolve) => {
      onClose = resolve
      model.once('close', onClose)
      timer = setTimeout(resolve, timeoutMs)
    }),
  ])
  clearTimeout(timer)
  if (onClose !== undefined) model.off('close', onClose)
}
