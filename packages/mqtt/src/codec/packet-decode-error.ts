/** A packet the codec could not decode, with why. */
export class PacketDecodeError extends Error {
  override readonly name = 'PacketDecodeError'
}
