// A thermostat on the Strata device SDK: sends its temperature every few seconds, answers the
// `set-point` command, reports its twin, follows a desired `setPoint`, and exits cleanly on Ctrl-C.
//
//   STRATA_URL=mqtt://127.0.0.1:1883 STRATA_DEVICE_ID=thermo-1 STRATA_TOKEN=sdt_… \
//     node --conditions=strata-source --import tsx examples/device-sdk/thermostat.ts
//
// Optional: STRATA_CA_FILE (CA chain PEM for mqtts://), STRATA_INTERVAL_MS (default 5000).
import { readFileSync } from 'node:fs'
import { createDeviceClient } from '@strata/device'

function env(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    process.stderr.write(`set ${name} (see the comment at the top of this file)\n`)
    process.exit(2)
  }
  return value
}

const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`)
const caFile = process.env['STRATA_CA_FILE']
const intervalMs = Number(process.env['STRATA_INTERVAL_MS'] ?? 5_000)

const client = createDeviceClient({
  url: env('STRATA_URL'),
  deviceId: env('STRATA_DEVICE_ID'),
  credentials: { token: env('STRATA_TOKEN') },
  ...(caFile === undefined ? {} : { caPem: readFileSync(caFile, 'utf8') }),
})

client.on('online', ({ sessionPresent }) =>
  say(`online (session ${sessionPresent ? 'resumed' : 'new'})`),
)
client.on('offline', ({ reason, retryInMs }) =>
  say(`offline: ${reason}; retrying in ${String(retryInMs)} ms`),
)
client.on('refused', ({ reason }) => say(`a reading was refused: ${reason}`))
client.on('warning', (err) => say(`warning: ${err.message}`))
client.on('fatal', (err) => {
  say(`cannot connect: ${err.message}\n  ${err.hint ?? ''}`)
  process.exitCode = 1
  clearInterval(timer)
})

let setPoint = 20
let temperature = 18
let heating = false

function applySetPoint(celsius: unknown): number {
  if (typeof celsius !== 'number' || !Number.isFinite(celsius) || celsius < 5 || celsius > 30) {
    throw Object.assign(new Error('celsius must be a number from 5 to 30'), {
      code: 'BAD_SET_POINT',
    })
  }
  setPoint = celsius
  say(`set point ${String(setPoint)} °C`)
  client.twin
    .report({ setPoint })
    .catch((err: unknown) => say(`twin report failed: ${String(err)}`))
  return setPoint
}

// `set-point {"celsius": 21.5}` → succeeded {"setPoint": 21.5}, or failed BAD_SET_POINT.
client.commands.on('set-point', ({ params }) => ({ setPoint: applySetPoint(params['celsius']) }))

// The cloud may also set it through the twin's desired state.
client.twin.onDesired(({ desired }) => {
  if (desired['setPoint'] !== undefined && desired['setPoint'] !== setPoint)
    applySetPoint(desired['setPoint'])
})

client.twin
  .report({ model: 'thermostat-example', firmware: '1.0.0', setPoint })
  .catch((err: unknown) => say(`twin report failed: ${String(err)}`))

// A crude room: heat towards the set point, lose heat to the outside.
const timer = setInterval(() => {
  heating = temperature < setPoint - 0.3 ? true : temperature > setPoint + 0.3 ? false : heating
  temperature += (heating ? 0.4 : 0) - (temperature - 12) * 0.02 + (Math.random() - 0.5) * 0.1
  client.telemetry.send({ temp: Math.round(temperature * 100) / 100, heating, setPoint })
}, intervalMs)

async function shutDown(signal: string): Promise<void> {
  say(`${signal}: closing`)
  clearInterval(timer)
  await client.close() // flushes what is buffered, then DISCONNECT; the session is kept
  const { telemetry, commands } = client.stats()
  say(
    `closed: ${String(telemetry.acknowledged)} readings acknowledged, ${String(commands.answered)} commands answered`,
  )
}

process.once('SIGINT', () => void shutDown('SIGINT'))
process.once('SIGTERM', () => void shutDown('SIGTERM'))
