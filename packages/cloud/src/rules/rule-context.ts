import type { RuleContext, RuleDefinition, TwinFacts } from '@strata/analytics'

/** What a rule reads beyond the message, so the engine looks up only that. */
export interface RuleNeeds {
  /** Labels or attributes from the registry (a label selector, `device.labels`, `device.attributes`). */
  readonly device: boolean
  /** The twin's reported or desired document. */
  readonly twin: boolean
}

/**
 * Which context a rule's expressions and match read. Conservative: a name inside a string literal
 * counts too (it costs a cached lookup, never a wrong answer); `device.id` comes with the message.
 */
export function ruleNeeds(definition: RuleDefinition): RuleNeeds {
  const sources = [
    definition.condition,
    definition.transform,
    ...(definition.operators ?? []).map((o) => o.input),
  ].filter((s): s is string => s !== undefined)
  const device =
    (definition.match?.devices ?? '').trim() !== '' ||
    sources.some((s) => /\bdevice\b(?!\s*\.\s*id\b)/.test(s))
  const twin = sources.some((s) => /\btwin\b/.test(s))
  return { device, twin }
}

/** A device's facts as the registry gives them. */
export interface DeviceFactsOf {
  readonly labels: Readonly<Record<string, string>>
  readonly attributes: Readonly<Record<string, unknown>>
}

/** Options of a {@link RuleContextCache}. */
export interface RuleContextCacheOptions {
  /** How long a device's labels and attributes are trusted before the registry is read again. */
  readonly deviceTtlMs: number
  /** Devices kept at most; the least recently used go first. */
  readonly maxDevices: number
}

export const defaultRuleContextCacheOptions: RuleContextCacheOptions = {
  deviceTtlMs: 5_000,
  maxDevices: 100_000,
}

interface Entry {
  device: DeviceFactsOf | undefined
  /** When the device facts were read; undefined: never, or forgotten. */
  deviceAt: number | undefined
  twin: TwinFacts | undefined
  /**
   * The contexts handed out, by needs (device, twin, both), kept until what they hold changes:
   * rules given the same context object share one prepared input per message.
   */
  contexts: [RuleContext | undefined, RuleContext | undefined, RuleContext | undefined]
}

/** The context of rules that read nothing beyond the message. */
const noContext: RuleContext = Object.freeze({})

/**
 * The context rules evaluate with, per device, cached: labels and attributes from the registry
 * (re-read after `deviceTtlMs`, or at once after `forgetDevice`) and the twin (kept until
 * `forgetTwin`, which the node calls on every twin change). Nothing is read for a rule that does
 * not need it; the bound keeps memory flat with a large fleet.
 */
export class RuleContextCache {
  readonly #lookupDevice: (deviceId: string) => DeviceFactsOf | undefined
  readonly #readTwin: (deviceId: string) => TwinFacts
  readonly #clock: () => number
  readonly #options: RuleContextCacheOptions
  readonly #entries = new Map<string, Entry>()
  #lastId: string | undefined
  #last: Entry | undefined

  constructor(
    deps: {
      lookupDevice: (deviceId: string) => DeviceFactsOf | undefined
      readTwin: (deviceId: string) => TwinFacts
      clock: () => number
    },
    options: Partial<RuleContextCacheOptions> = {},
  ) {
    this.#lookupDevice = deps.lookupDevice
    this.#readTwin = deps.readTwin
    this.#clock = deps.clock
    this.#options = { ...defaultRuleContextCacheOptions, ...options }
  }

  /** The context for a device with what `needs` asks for (`{}` when nothing). */
  contextOf(deviceId: string, needs: RuleNeeds): RuleContext {
    if (!needs.device && !needs.twin) return noContext
    const entry = this.#entry(deviceId)
    if (needs.device) {
      const now = this.#clock()
      if (entry.deviceAt === undefined || now - entry.deviceAt > this.#options.deviceTtlMs) {
        entry.device = this.#lookupDevice(deviceId)
        entry.deviceAt = now
        entry.contexts = [undefined, undefined, undefined]
      }
    }
    if (needs.twin && entry.twin === undefined) {
      entry.twin = this.#readTwin(deviceId)
      entry.contexts = [undefined, undefined, undefined]
    }
    const slot = needs.device ? (needs.twin ? 2 : 0) : 1
    return (entry.contexts[slot] ??= contextFrom(
      needs.device ? entry.device : undefined,
      needs.twin ? entry.twin : undefined,
    ))
  }

  /** The twin changed: read it again next time. */
  forgetTwin(deviceId: string): void {
    const entry = this.#entries.get(deviceId)
    if (entry === undefined) return
    entry.twin = undefined
    entry.contexts = [undefined, undefined, undefined]
  }

  /** The device changed (labels, attributes): read it again next time. */
  forgetDevice(deviceId: string): void {
    const entry = this.#entries.get(deviceId)
    if (entry !== undefined) entry.deviceAt = undefined
  }

  get size(): number {
    return this.#entries.size
  }

  #entry(deviceId: string): Entry {
    // every rule of a record asks for the same device: it is the most recent entry already
    if (deviceId === this.#lastId && this.#last !== undefined) return this.#last
    let entry = this.#entries.get(deviceId)
    if (entry !== undefined) {
      // Map order is insertion order: moving the entry to the end makes the first the coldest.
      this.#entries.delete(deviceId)
      this.#entries.set(deviceId, entry)
      this.#lastId = deviceId
      this.#last = entry
      return entry
    }
    entry = {
      device: undefined,
      deviceAt: undefined,
      twin: undefined,
      contexts: [undefined, undefined, undefined],
    }
    this.#entries.set(deviceId, entry)
    if (this.#entries.size > this.#options.maxDevices) {
      const coldest = this.#entries.keys().next().value
      if (coldest !== undefined) this.#entries.delete(coldest)
    }
    this.#lastId = deviceId
    this.#last = entry
    return entry
  }
}

function contextFrom(device: DeviceFactsOf | undefined, twin: TwinFacts | undefined): RuleContext {
  const facts =
    device === undefined ? undefined : { labels: device.labels, attributes: device.attributes }
  if (facts === undefined) return twin === undefined ? noContext : { twin }
  return twin === undefined ? { device: facts } : { device: facts, twin }
}
