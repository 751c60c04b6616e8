/**
 * A body declared `Type.Optional(…)`: absent when the client sent none, whatever the inferred type
 * says (TypeBox infers the object type for an optional top-level body).
 */
export function optionalBody<T>(body: T | undefined): T | undefined {
  return body
}
