import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { provisionWithClaim, type SimIdentity } from '@strata/device'
import { CliError } from '../errors.js'
import type { ApiClient } from './api-client.js'

/** How simulated devices prove who they are. */
export type IdentityMode = 'claim' | 'token' | 'none'

/** Where a fleet connects and as whom. */
export interface FleetTarget {
  readonly brokerUrl: string
  readonly caPem?: string
  readonly identities: readonly SimIdentity[]
  /** How many identities were made in this run (the rest came from the data folder). */
  readonly created: number
}

/** `DIR/identities.json`: what a previous run provisioned, so a rerun reuses the same devices. */
interface IdentityFile {
  readonly node: string
  readonly identities: Record<string, SimIdentity>
}

interface Health {
  readonly mqtt: { readonly url: string; readonly tlsUrl: string }
}

const provisionConcurrency = 16
const tokenConcurrency = 4

/** The ids of a fleet: `sim-0001` … — stable, so a rerun with the same prefix finds its devices. */
export function deviceIds(prefix: string, count: number): string[] {
  const width = Math.max(4, String(count).length)
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`)
}

/**
 * Identities for `ids` on the node behind `api`: those saved in `dataDir` by an earlier run, and
 * new ones for the rest — provisioned by the devices themselves with one claim token over MQTTS
 * (`claim`: key and CSR made here, certificate from the node's CA), or registered with a device
 * token each over the API (`token`). Saved as they are made (file 0600), so an interrupted run
 * loses nothing it paid for.
 */
export async function nodeFleetTarget(
  api: ApiClient,
  mode: Exclude<IdentityMode, 'none'>,
  ids: readonly string[],
  dataDir: string,
  onProgress: (done: number, total: number) => void,
): Promise<FleetTarget> {
  const health = await api.get<Health>('/api/v1/health')
  const saved = await readIdentities(dataDir, api.url)
  const missing = ids.filter((id) => saved[id] === undefined)
  const caPem =
    mode === 'claim' ? (await api.get<{ caChainPem: string }>('/api/v1/ca')).caChainPem : undefined
  const brokerUrl = mode === 'claim' ? health.mqtt.tlsUrl : health.mqtt.url
  const store = (identity: SimIdentity) => {
    saved[identity.id] = identity
  }
  const persist = () => writeIdentities(dataDir, { node: api.url, identities: saved })
  try {
    if (missing.length > 0) {
      onProgress(0, missing.length)
      if (mode === 'claim') {
        await provisionByClaim(api, brokerUrl, caPem ?? '', missing, store, onProgress)
      } else {
        await registerWithTokens(api, missing, store, onProgress)
      }
    }
  } finally {
    if (missing.length > 0) await persist()
  }
  const identities = ids.map((id) => saved[id] as SimIdentity)
  const wrongKind = identities.find(
    (i) => i.auth.kind !== (mode === 'claim' ? 'certificate' : 'token'),
  )
  if (wrongKind !== undefined)
    throw new CliError(
      'CLI_USAGE',
      `${wrongKind.id} was made with another --identity mode in ${dataDir}`,
      { hint: 'Use the mode of the earlier run, another --prefix, or another --data folder.' },
    )
  return {
    brokerUrl,
    ...(caPem === undefined ? {} : { caPem }),
    identities,
    created: missing.length,
  }
}

/** Devices that connect to a plain broker without credentials (a test broker, a benchmark). */
export function anonymousFleetTarget(brokerUrl: string, ids: readonly string[]): FleetTarget {
  return { brokerUrl, identities: ids.map((id) => ({ id, auth: { kind: 'none' } })), created: 0 }
}

async function provisionByClaim(
  api: ApiClient,
  brokerUrl: string,
  caPem: string,
  ids: readonly string[],
  store: (identity: SimIdentity) => void,
  onProgress: (done: number, total: number) => void,
): Promise<void> {
  const { token } = await api.post<{ token: string }>('/api/v1/claims', {
    name: `strata simulate: ${String(ids.length)} devices`,
    maxUses: ids.length,
    expiresInHours: 1,
    labels: { simulated: 'true' },
  })
  let done = 0
  await eachLimited(ids, provisionConcurrency, async (id) => {
    const provisioned = await provisionWithClaim({
      url: brokerUrl,
      caPem,
      claimToken: token,
      serial: id,
    })
    store({
      id: provisioned.deviceId,
      auth: {
        kind: 'certificate',
        certificatePem: provisioned.certificatePem,
        privateKeyPem: provisioned.privateKeyPem,
      },
    })
    onProgress(++done, ids.length)
  })
}

async function registerWithTokens(
  api: ApiClient,
  ids: readonly string[],
  store: (identity: SimIdentity) => void,
  onProgress: (done: number, total: number) => void,
): Promise<void> {
  let done = 0
  await eachLimited(ids, tokenConcurrency, async (id) => {
    await api.post('/api/v1/devices', { id, labels: { simulated: 'true' } })
    const { token } = await api.post<{ token: string }>(
      `/api/v1/devices/${encodeURIComponent(id)}/tokens`,
      {},
    )
    store({ id, auth: { kind: 'token', token } })
    onProgress(++done, ids.length)
  })
}

/** Runs `work` over `items`, at most `limit` at a time; the first failure stops new work. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T
      try {
        await work(item)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  const results = await Promise.allSettled(Array.from({ length: limit }, worker))
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (rejected !== undefined) throw rejected.reason
}

function identitiesPath(dataDir: string): string {
  return join(dataDir, 'identities.json')
}

async function readIdentities(dataDir: string, node: string): Promise<Record<string, SimIdentity>> {
  const path = identitiesPath(dataDir)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new CliError('CLI_FILE_UNREADABLE', `cannot read ${path}: ${String(cause)}`, { cause })
  }
  let file: Partial<IdentityFile> | null
  try {
    file = JSON.parse(text) as Partial<IdentityFile> | null
  } catch (cause) {
    throw new CliError('CLI_FILE_UNREADABLE', `${path} is not a simulator identities file`, {
      hint: 'Move it away, or give another --data folder.',
      cause,
    })
  }
  if (typeof file !== 'object' || file === null || typeof file.identities !== 'object')
    throw new CliError('CLI_FILE_UNREADABLE', `${path} is not a simulator identities file`, {
      hint: 'Move it away, or give another --data folder.',
    })
  if (file.node !== node)
    throw new CliError('CLI_USAGE', `${path} holds devices of ${file.node}, not of ${node}`, {
      hint: 'Give another --data folder for this node.',
    })
  return { ...file.identities }
}

/** Tokens and private keys: the folder is 0700 and the file 0600, replaced atomically. */
async function writeIdentities(dataDir: string, file: IdentityFile): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await chmod(dataDir, 0o700)
  const path = identitiesPath(dataDir)
  const temp = `${path}.${String(process.pid)}.tmp`
  await writeFile(temp, `${JSON.stringify(file)}\n`, { mode: 0o600 })
  await rename(temp, path)
}
