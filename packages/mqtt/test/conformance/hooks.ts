import type { BrokerHooks } from '../../src/index.js'

/**
 * Everyone is let in as identity = client id, except user "user", whose password is "pass"
 * (auth cases). Topics and filters under `forbidden/` are refused by the authorisers.
 */
export const conformanceHooks: BrokerHooks = {
  authenticate: (ctx) => {
    if (ctx.username === 'user' && Buffer.from(ctx.password ?? []).toString() !== 'pass')
      return { ok: false, reasonCode: 0x86, reason: 'bad user name or password' }
    return { ok: true, identity: { id: ctx.clientId } }
  },
  authorizePublish: (_client, topic) =>
    topic.startsWith('forbidden/') ? { allowed: false } : { allowed: true },
  authorizeSubscribe: (_client, filter) =>
    filter.startsWith('forbidden/') ? { allowed: false } : { allowed: true },
}
