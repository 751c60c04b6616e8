/**
 * Sends acknowledgements in the order their packets arrived [MQTT-4.6.0-2], even when some wait
 * for the store or the onPublish hook longer than others.
 */
export class InOrderAcks {
  private readonly queue: { done: boolean; send: () => void }[] = []

  /** `ready` undefined: nothing to wait for. `send` runs when it and every earlier ack are ready. */
  add(
    ready: Promise<unknown> | undefined,
    send: () => void,
    onError: (err: unknown) => void,
  ): void {
    if (ready === undefined && this.queue.length === 0) return send()
    const item = { done: ready === undefined, send }
    this.queue.push(item)
    if (ready === undefined) return
    ready.then(
      () => {
        item.done = true
        this.drain()
      },
      (err: unknown) => {
        this.queue.length = 0
        onError(err)
      },
    )
  }

  private drain(): void {
    while (this.queue[0]?.done === true) this.queue.shift()?.send()
  }
}
