/** One subscription of one client, with its MQTT 5 options (§3.8.3.1). */
export interface Subscription {
  /** The filter as the client sent it, including any `$share/{group}/` prefix. */
  readonly filter: string
  readonly qos: 0 | 1 | 2
  readonly noLocal: boolean
  readonly retainAsPublished: boolean
  /** 0 send retained on subscribe, 1 only if the subscription is new, 2 never. */
  readonly retainHandling: 0 | 1 | 2
  /** MQTT 5 subscription identifier (1..268,435,455), if the client set one. */
  readonly subscriptionId?: number
}
