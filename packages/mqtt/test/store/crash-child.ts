// Child of crash.test.ts (imports no test modules: it starts four times per run): writes outgoing entries to two sessions as fast as it can and prints
// what each resolved flush made durable, until the parent kills it with SIGKILL.
//   node --conditions=strata-source --import tsx crash-child.ts <file>
// Prints `put <client> <seq>` and `del <client> <seq>` lines, each only after its flush resolved.
import type { BrokerMessage } from '../../src/message.js'
import { openSqliteSessionStore } from '../../src/store/index.js'

const file = process.argv[2]
if (file === undefined) throw new Error('usage: crash-child.ts <file>')
const clients = ['crash-a', 'crash-b']
const store = openSqliteSessionStore({ path: file })
const { sessions } = await store.load()
let seq = Math.max(0, ...sessions.flatMap((s) => s.outgoing.map((e) => e.seq)))
for (const clientId of clients) {
  store.upsertSession({ clientId, protocolVersion: 5, expiryIntervalSec: 3600 })
}

for (;;) {
  const acks: string[] = []
  for (let i = 0; i < 50; i++) {
    seq++
    // One message fanned out to both sessions: one row, two references.
    const m: BrokerMessage = {
      topic: `crash/${String(seq)}`,
      payload: new Uint8Array(1024).fill(seq % 256),
      qos: 1,
      retain: false,
      properties: {},
      createdAtMs: Date.now(),
    }
    for (const clientId of clients) {
      store.putOutgoing(clientId, { seq, state: 'queued', message: m, qos: 1, retain: false })
      acks.push(`put ${clientId} ${String(seq)}`)
    }
    // Acknowledge an older entry of crash-a, as a PUBACK would.
    if (seq % 3 === 0 && seq > 30) {
      store.deleteOutgoing('crash-a', seq - 30)
      acks.push(`del crash-a ${String(seq - 30)}`)
    }
  }
  await store.flush()
  // Synchronous on a pipe on Linux: once written, the parent can read it even after SIGKILL.
  process.stdout.write(`${acks.join('\n')}\n`)
}
