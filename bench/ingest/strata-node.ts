// Child process: our all-in-one node (`strata up`) on ephemeral ports in a fresh data folder, as
// `startNode` from @strata/cloud runs it. Tells the parent its addresses and setup token, closes
// the node and deletes the folder on `{type: 'close'}`, a signal, or when the parent goes away.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startNode } from '@strata/cloud'
import { reply, serveParent } from './children.js'

const dataDir = await mkdtemp(join(tmpdir(), 'strata-bench-ingest-node-'))
const node = await startNode({
  dataDir,
  host: '127.0.0.1',
  mqttPort: 0,
  mqttsPort: 0,
  httpPort: 0,
})
serveParent({}, async () => {
  await node.close()
  await rm(dataDir, { recursive: true, force: true })
})
reply({
  type: 'ready',
  mqttUrl: node.mqttUrl,
  httpUrl: node.httpUrl,
  setupToken: node.setupToken ?? null,
})
