import { readFileSync } from 'node:fs'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import {
  checkPayload,
  checkableKinds,
  summarize,
  type CheckRequest,
} from './commands/protocol-check.js'
import { startBroker } from './commands/broker.js'
import { parseKeepDays, up } from './commands/up.js'
import { waitForShutdownSignal } from './commands/wait-for-signal.js'
import { runPasswd } from './commands/broker-passwd.js'
import { addData } from './commands/data-command.js'
import { addLogin } from './commands/login.js'
import { addAdmin } from './commands/admin.js'
import { addDevices } from './commands/devices.js'
import { addClaims } from './commands/claims.js'
import { addSimulate } from './commands/simulate.js'
import { addTwin } from './commands/twin-verbs.js'
import { addAlarms } from './commands/alarm-verbs.js'
import { addRules } from './commands/rule-verbs.js'
import { addCommands } from './commands/command-verbs.js'
import { decide, topicsOf } from './commands/protocol-topics.js'
import { intOption } from './commands/int-option.js'
import { readInput } from './commands/read-input.js'
import { exitCodes, reportError, toJson, type Output } from './output.js'

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string }

/** Runs one invocation of `strata` and resolves to its exit code; never calls process.exit. */
export async function runCli(
  argv: readonly string[],
  out: Output,
  stdin?: NodeJS.ReadableStream,
): Promise<number> {
  let exitCode: number = exitCodes.ok
  const program = createProgram(out, stdin, (code) => (exitCode = code))
  try {
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return err.exitCode === 0 ? exitCodes.ok : exitCodes.usage
    }
    return reportError(out, err, argv.includes('--json'))
  }
}

function createProgram(
  out: Output,
  stdin: NodeJS.ReadableStream | undefined,
  setExit: (code: number) => void,
): Command {
  const program = new Command('strata')
    .description('Strata: a self-hostable IoT platform for devices, edge gateways and the cloud.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => out.stdout.write(s), writeErr: (s) => out.stderr.write(s) })
    .exitOverride()
  const protocol = program
    .command('protocol')
    .description(
      'work with the device protocol: check payloads, list a device topics, test the topic ACL',
    )
    .configureOutput({ writeOut: (s) => out.stdout.write(s), writeErr: (s) => out.stderr.write(s) })
    .exitOverride()
  addCheck(protocol, out, stdin, setExit)
  addTopics(protocol, out)
  addAcl(protocol, out, setExit)
  addUp(program, out)
  addBroker(program, out, stdin)
  addData(program, out, subcommand)
  const node = { out, subcommand, stdin, setExit }
  addLogin(program, node)
  addDevices(program, node)
  addClaims(program, node)
  addAdmin(program, node)
  addTwin(program, node)
  addCommands(program, node)
  addRules(program, node)
  addAlarms(program, node)
  addSimulate(program, node)
  return program
}

const parsePort = intOption(0, 65_535, 'expected a port number 0-65535')

function addBroker(parent: Command, out: Output, stdin: NodeJS.ReadableStream | undefined): void {
  const broker = subcommand(parent, 'broker', out)
    .description(
      'run the MQTT server alone, a drop-in for Mosquitto (users, ACLs and listeners from a Mosquitto-style config)',
    )
    .option('-c, --config <file>', 'Mosquitto-compatible config file')
    .option('-p, --port <n>', 'also listen on this TCP port (0 picks a free one)', parsePort)
    .option('--host <address>', 'address for --port', '127.0.0.1')
    .action(async (opts: { config?: string; port?: number; host?: string; json?: boolean }) => {
      const signalled = waitForShutdownSignal()
      const running = await startBroker(opts, out, version)
      await signalled
      await running.stop()
    })
  subcommand(broker, 'passwd', out)
    .description(
      'add a user to a password file or change its password (argon2id); the password comes from standard input or a prompt',
    )
    .argument('<file>', 'the password file (created with mode 0600 if missing)')
    .argument('<user>', 'the user name')
    .option('-D, --delete', 'remove the user instead')
    .action(async (file: string, user: string, opts: { delete?: boolean; json?: boolean }) => {
      await runPasswd(file, user, opts, out, stdin ?? process.stdin)
    })
}

function addUp(parent: Command, out: Output): void {
  subcommand(parent, 'up', out)
    .description(
      'run the all-in-one node: MQTT server, cloud services, HTTP API and the embedded store in one process',
    )
    .option('--data <dir>', 'data folder (created if missing)', 'strata-data')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--mqtt-port <n>', 'MQTT port (0 picks a free one)', parsePort, 1883)
    .option(
      '--mqtts-port <n>',
      'MQTT over TLS port, mutual TLS for device certificates',
      parsePort,
      8883,
    )
    .option('--http-port <n>', 'HTTP API and console port', parsePort, 8080)
    .option(
      '--keep-cleared-alarms <days>',
      'days a cleared alarm is kept with its history, or forever (default 365)',
      parseKeepDays,
    )
    .addOption(
      new Option('--log-level <level>', 'log level on stderr')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
    )
    .action(
      async (opts: {
        data: string
        host: string
        mqttPort: number
        mqttsPort: number
        httpPort: number
        logLevel: string
        keepClearedAlarms?: number
        json?: boolean
      }) => {
        // Listen before starting: a signal during start-up then stops the node once it is up,
        // rather than killing the process halfway through opening its files.
        const signalled = waitForShutdownSignal()
        const node = await up(opts, out)
        await signalled
        await node.close()
      },
    )
}

function subcommand(parent: Command, name: string, out: Output): Command {
  return parent
    .command(name)
    .configureOutput({ writeOut: (s) => out.stdout.write(s), writeErr: (s) => out.stderr.write(s) })
    .exitOverride()
    .option('--json', 'print one JSON object instead of prose')
}

function addCheck(
  parent: Command,
  out: Output,
  stdin: NodeJS.ReadableStream | undefined,
  setExit: (code: number) => void,
): void {
  subcommand(parent, 'check', out)
    .description('validate a payload file exactly as the cloud would (- reads standard input)')
    .argument('<file>', 'the payload: .json, .cbor or .lp, or - for standard input')
    .addOption(
      new Option('--format <format>', 'payload encoding (default: from the file name)').choices([
        'json',
        'cbor',
        'lp',
      ]),
    )
    .addOption(
      new Option('--kind <kind>', 'what the payload is')
        .choices(checkableKinds)
        .default('telemetry'),
    )
    .option('--topic <topic>', 'the topic it would be published on (sets kind and format)')
    .addOption(
      new Option('--precision <unit>', 'line-protocol timestamp unit')
        .choices(['ns', 'us', 'ms', 's'])
        .default('ns'),
    )
    .action(async (file: string, opts: Omit<CheckRequest, 'file'> & { json?: boolean }) => {
      const payload = await readInput(file, stdin)
      const { kind, format, message } = checkPayload(payload, { ...opts, file })
      if (opts.json === true)
        out.stdout.write(`${toJson({ ok: true, kind, format, bytes: payload.length, message })}\n`)
      else out.stdout.write(`${summarize(message, format, payload.length)}\n`)
      setExit(exitCodes.ok)
    })
}

function addTopics(parent: Command, out: Output): void {
  subcommand(parent, 'topics', out)
    .description('list the topics a device may publish and subscribe to')
    .argument('<device-id>', 'the device id')
    .action((deviceId: string, opts: { json?: boolean }) => {
      const rows = topicsOf(deviceId)
      if (opts.json === true) return void out.stdout.write(`${toJson(rows)}\n`)
      const width = Math.max(...rows.map((r) => r.topic.length))
      for (const r of rows)
        out.stdout.write(
          `${r.topic.padEnd(width)}  ${r.direction}${r.formats === '' ? '' : `  ${r.formats}`}\n`,
        )
    })
}

function addAcl(parent: Command, out: Output, setExit: (code: number) => void): void {
  subcommand(parent, 'acl', out)
    .description('ask whether a device may publish to a topic or subscribe to a filter, and why')
    .argument('<device-id>', 'the device id')
    .argument('<action>', 'publish or subscribe', (v) => {
      if (v !== 'publish' && v !== 'subscribe')
        throw new InvalidArgumentError('expected publish or subscribe')
      return v
    })
    .argument('<topic>', 'the topic name or filter')
    .action(
      (
        deviceId: string,
        action: 'publish' | 'subscribe',
        topic: string,
        opts: { json?: boolean },
      ) => {
        const decision = decide(deviceId, action, topic)
        if (opts.json === true)
          out.stdout.write(`${toJson({ deviceId, action, topic, ...decision })}\n`)
        else
          out.stdout.write(
            decision.allowed
              ? `allowed: ${deviceId} may ${action} ${topic}\n`
              : `denied: ${decision.reason}\n`,
          )
        setExit(decision.allowed ? exitCodes.ok : exitCodes.invalid)
      },
    )
}
