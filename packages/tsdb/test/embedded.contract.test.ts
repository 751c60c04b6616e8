import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openEmbeddedStore } from '../src/index.js'
import { contractSuite } from './contract/suite.js'

contractSuite({
  name: 'embedded',
  keepsNaNPayloads: true,
  location() {
    const dir = mkdtempSync(join(tmpdir(), 'strata-tsdb-'))
    return Promise.resolve({
      open: (options) => openEmbeddedStore(dir, options),
      dispose: () => {
        rmSync(dir, { recursive: true, force: true })
        return Promise.resolve()
      },
    })
  },
})
