// Topic matching for the broker: who gets a published message, which retained messages a new
// subscription gets.
export { RetainedIndex } from './retained-index.js'
export type { Subscription } from './subscription.js'
export { SubscriptionTree } from './subscription-tree.js'
