import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { CloudError } from '../../errors.js'

/**
 * Which addresses a delivery may reach. Tenants configure targets, so by default a target may
 * only reach the public internet: no loopback, link-local (cloud metadata at 169.254.169.254),
 * private, shared (CGNAT), multicast or reserved ranges (SSRF). The node operator may allow
 * private networks, for brokers and receivers inside the operator's own network.
 */
export interface AddressPolicy {
  readonly allowPrivateNetworks: boolean
}

/** Resolves a host name to its addresses; `dns.lookup` by default (what sockets use). */
export type ResolveHost = (host: string) => Promise<readonly string[]>

// IANA special-purpose registries (RFC 6890 and successors): everything that is not a unicast
// address on the public internet. IPv4-mapped IPv6 (::ffff:a.b.c.d) matches the IPv4 rules.
const nonPublic = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGNAT)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address we would have to check
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv6')
}

/**
 * True when `address` (an IPv4 or IPv6 literal) is a public unicast address. NAT64 addresses
 * (64:ff9b::/96) are judged by the IPv4 address they embed.
 *
 * @example
 * isPublicAddress('169.254.169.254') // false
 * isPublicAddress('93.184.215.14') // true
 */
export function isPublicAddress(address: string): boolean {
  const bare = address.startsWith('[') ? address.slice(1, -1) : address
  const family = isIP(bare)
  if (family === 4) return !nonPublic.check(bare, 'ipv4')
  if (family !== 6) return false
  const embedded = nat64Embedded(bare)
  if (embedded !== undefined) return isPublicAddress(embedded)
  return !nonPublic.check(bare, 'ipv6')
}

/** The IPv4 address inside a NAT64 well-known-prefix address (64:ff9b::/96), if it is one. */
function nat64Embedded(address: string): string | undefined {
  const groups = expandIpv6(address)
  if (groups?.[0] !== 0x64 || groups[1] !== 0xff9b) return undefined
  if (groups.slice(2, 6).some((g) => g !== 0)) return undefined
  const hi = groups[6] ?? 0
  const lo = groups[7] ?? 0
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.')
}

function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase()
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = 8 - left.length - right.length
  if (fill < 0 || (tail === undefined && fill !== 0)) return undefined
  return [...left, ...Array<string>(fill).fill('0'), ...right].map((g) => parseInt(g, 16))
}

/**
 * Refuses a host literal that is not public (no DNS: for checks that must stay synchronous).
 * Host names pass here; {@link assertHostAllowed} resolves them.
 */
export function assertLiteralAllowed(host: string, policy: AddressPolicy, what: string): void {
  if (policy.allowPrivateNetworks) return
  const bare = host.startsWith('[') ? host.slice(1, -1) : host
  if (isIP(bare) !== 0 && !isPublicAddress(bare)) {
    throw new CloudError(
      'CLOUD_DELIVERY_TARGET_INVALID',
      `${what} points at ${host}, a loopback, link-local or private address`,
      {
        hint: 'Use a public address, or ask the node operator to allow private networks.',
        details: { field: what, host },
      },
    )
  }
}

export const resolveWithDns: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)

/**
 * Resolves `host` and refuses it when any of its addresses is not public (an attacker's DNS
 * may mix one public and one private answer). A name that does not resolve is a retryable
 * `CLOUD_DELIVERY_FAILED`.
 *
 * @example
 * await assertHostAllowed('hooks.example.com', { allowPrivateNetworks: false })
 */
export async function assertHostAllowed(
  host: string,
  policy: AddressPolicy,
  resolve: ResolveHost = resolveWithDns,
): Promise<void> {
  if (policy.allowPrivateNetworks) return
  const bare = host.startsWith('[') ? host.slice(1, -1) : host
  const addresses = isIP(bare) !== 0 ? [bare] : await resolveOrFail(bare, resolve)
  assertAllPublic(host, addresses)
}

/**
 * Refuses `host` when it is an IP literal the policy forbids (`CLOUD_DELIVERY_ADDRESS_FORBIDDEN`);
 * names pass, for a {@link checkedLookup} to judge when the socket resolves them.
 */
export function assertLiteralHostAllowed(host: string, policy: AddressPolicy): void {
  if (policy.allowPrivateNetworks) return
  const bare = host.startsWith('[') ? host.slice(1, -1) : host
  if (isIP(bare) !== 0) assertAllPublic(host, [bare])
}

/**
 * A `lookup` for `net.connect` / `http.request` that resolves with `resolve` and refuses a name
 * with any non-public answer, so that the address checked is the address connected to: a DNS
 * answer that changes between a check and the connection (DNS rebinding) cannot slip through.
 * The socket then fails with the `CLOUD_DELIVERY_ADDRESS_FORBIDDEN` or `CLOUD_DELIVERY_FAILED`
 * that {@link assertHostAllowed} would throw. IP literals never reach a lookup: check those
 * with `assertHostAllowed`.
 */
export function checkedLookup(policy: AddressPolicy, resolve: ResolveHost = resolveWithDns) {
  return (
    hostname: string,
    options: { readonly all?: boolean | undefined; readonly family?: number | string | undefined },
    callback: (
      err: Error | null,
      address: string | { address: string; family: number }[],
      family?: number,
    ) => void,
  ): void => {
    resolveOrFail(hostname, resolve)
      .then((found) => {
        if (!policy.allowPrivateNetworks) assertAllPublic(hostname, found)
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0
        const addresses = found
          .map((address) => ({ address, family: isIP(address) }))
          .filter((a) => a.family !== 0 && (wanted === 0 || a.family === wanted))
        const first = addresses[0]
        if (first === undefined) throw new Error(`${hostname} has no IPv${String(wanted)} address`)
        if (options.all === true) callback(null, addresses)
        else callback(null, first.address, first.family)
      })
      .catch((err: unknown) => {
        callback(err instanceof Error ? err : new Error(String(err)), '')
      })
  }
}

/**
 * The address refusal inside a connection error, when a {@link checkedLookup} refused the
 * connection: clients hand the lookup's error on as is or as the `cause` of their own.
 */
export function addressRefusalIn(err: unknown): CloudError | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 3; depth++) {
    if (e instanceof CloudError && e.code === 'CLOUD_DELIVERY_ADDRESS_FORBIDDEN') return e
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

async function resolveOrFail(host: string, resolve: ResolveHost): Promise<readonly string[]> {
  try {
    return await resolve(host)
  } catch (err) {
    throw new CloudError('CLOUD_DELIVERY_FAILED', `cannot resolve ${host}`, {
      retryable: true,
      cause: err,
      hint: 'Check the host name; the delivery is retried.',
    })
  }
}

function assertAllPublic(host: string, addresses: readonly string[]): void {
  const refused = addresses.find((a) => !isPublicAddress(a))
  if (addresses.length === 0 || refused !== undefined) {
    throw new CloudError(
      'CLOUD_DELIVERY_ADDRESS_FORBIDDEN',
      `${host} resolves to ${refused ?? 'no address'}, which is not a public address`,
      {
        hint: 'Use a host on the public internet, or ask the node operator to allow private networks.',
        details: { host, address: refused ?? null },
      },
    )
  }
}
