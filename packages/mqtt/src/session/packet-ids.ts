/**
 * Allocates packet identifiers 1..65535 for outgoing QoS 1/2 PUBLISH, never one still in use
 * [MQTT-2.2.1-3]; ids are released when their exchange completes.
 */
export class PacketIds {
  private next = 1
  private readonly inUse = new Set<number>()

  /** A free id, or undefined when all 65,535 are taken. */
  allocate(): number | undefined {
    if (this.inUse.size >= 65_535) return undefined
    while (this.inUse.has(this.next)) this.advance()
    const id = this.next
    this.inUse.add(id)
    this.advance()
    return id
  }

  /** Marks an id restored from the store as taken. */
  claim(id: number): void {
    this.inUse.add(id)
  }

  release(id: number): void {
    this.inUse.delete(id)
  }

  private advance(): void {
    this.next = this.next === 65_535 ? 1 : this.next + 1
  }
}
