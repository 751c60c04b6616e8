export { EmbeddedStore } from './embedded-store.js'
export type { EmbeddedStoreOptions } from './embedded-options.js'
export { openEmbeddedStore } from './open-embedded-store.js'
