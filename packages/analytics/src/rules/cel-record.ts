/**
 * The maps CEL reads, as objects with no reachable prototype methods: their prototype is one
 * shared empty object whose own prototype is null. They are as safe as `Object.create(null)`
 * (no `constructor`, `__proto__` setter or `toString` to reach; a `__proto__` key is data) but
 * V8 keeps them in fast mode with shared shapes, where `Object.create(null)` objects are
 * dictionaries: building one per rule evaluation is several times cheaper.
 */
const celRecordPrototype: object = Object.freeze(Object.create(null) as object)

/** A new empty CEL map record. */
export function newCelRecord(): Record<string, unknown> {
  return Object.create(celRecordPrototype) as Record<string, unknown>
}

/** Whether `proto` (an object's prototype) is that of plain data: `{}`, null, or a CEL record. */
export function isDataPrototype(proto: unknown): boolean {
  return proto === Object.prototype || proto === null || proto === celRecordPrototype
}
