import type { Command } from 'commander'
import { connect, pathOf, type ApiClient, type RemoteFlags } from './api-client.js'
import {
  emit,
  fields,
  group,
  parseLimit,
  progress,
  remoteVerb,
  table,
  when,
  type NodeVerbContext,
} from './api-output.js'
import { parseDuration } from './data-time.js'
import { collectSetting, parseJsonObject } from './json-args.js'

/** A command as the node returns it. */
interface DeviceCommand {
  readonly id: string
  readonly deviceId: string
  readonly name: string
  readonly params: Record<string, unknown>
  readonly status: string
  readonly statusReason: string
  readonly createdAt: number
  readonly expiresAt: number
  readonly finishedAt: number | null
  readonly result: Record<string, unknown> | null
  readonly error: { readonly code: string; readonly message: string } | null
}

interface CommandJob {
  readonly id: string
  readonly groupId: string
  readonly name: string
  readonly total: number
  readonly queued: number
  readonly delivered: number
  readonly succeeded: number
  readonly failed: number
  readonly expired: number
  readonly done: boolean
}

interface SendFlags extends RemoteFlags {
  json?: boolean
  params?: Record<string, unknown>
  param?: Record<string, unknown>
  timeout?: number
  expiresIn?: number
  wait?: number
}

const finalStatuses = new Set(['succeeded', 'failed', 'expired'])

function commandText(c: DeviceCommand): string {
  return [
    `${c.id}  ${c.name} → ${c.deviceId}: ${c.status}`,
    fields([
      ['reason', c.statusReason],
      ['params', JSON.stringify(c.params)],
      ['created', when(c.createdAt)],
      ['expires', when(c.expiresAt)],
      ['finished', when(c.finishedAt)],
      ...(c.result === null ? [] : [['result', JSON.stringify(c.result)] as const]),
      ...(c.error === null ? [] : [['error', `${c.error.code}: ${c.error.message}`] as const]),
    ]),
  ].join('\n')
}

function jobText(j: CommandJob): string {
  return `job ${j.id} (${j.name} → group ${j.groupId}): ${String(j.total)} devices, ${String(j.queued)} queued, ${String(j.delivered)} delivered, ${String(j.succeeded)} succeeded, ${String(j.failed)} failed, ${String(j.expired)} expired${j.done ? ', done' : ''}`
}

/** Polls `read` until `done` says so or `waitMs` passes, showing `line` as progress. */
async function follow<T>(
  ctx: NodeVerbContext,
  json: boolean | undefined,
  waitMs: number,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  line: (value: T) => string,
): Promise<T> {
  const bar = progress(ctx.out, json)
  const deadline = Date.now() + waitMs
  try {
    for (;;) {
      const value = await read()
      bar.update(line(value))
      if (done(value) || Date.now() >= deadline) return value
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  } finally {
    bar.done()
  }
}

function body(opts: SendFlags, name: string): Record<string, unknown> {
  const params = opts.params ?? opts.param
  return {
    name,
    ...(params === undefined ? {} : { params }),
    ...(opts.timeout === undefined ? {} : { timeoutS: Math.ceil(opts.timeout / 1000) }),
    ...(opts.expiresIn === undefined ? {} : { expiresInS: Math.ceil(opts.expiresIn / 1000) }),
  }
}

function sendOptions(command: Command): Command {
  return command
    .option('--params <json>', 'the parameters, a JSON object', parseJsonObject)
    .option('--param <path=value>', 'one parameter, e.g. delayS=5 (repeatable)', collectSetting)
    .option('--timeout <d>', 'time for a final answer once accepted (default 5m)', parseDuration)
    .option('--expires-in <d>', 'time the device has to pick it up (default 1h)', parseDuration)
    .option('--wait <d>', 'wait this long for the outcome, showing progress', parseDuration)
}

/** Registers `strata commands send|list|show|bulk|job`: commands to devices on a running node. */
export function addCommands(program: Command, ctx: NodeVerbContext): void {
  const { out } = ctx
  const commands = group(
    program,
    'commands',
    'send commands to devices (queued for sleeping ones) and follow their outcome',
    out,
  )

  sendOptions(remoteVerb(ctx, commands, 'send'))
    .description('send a command to a device; a sleeping device gets it when it wakes')
    .argument('<device>', 'the device id')
    .argument('<name>', 'the command, e.g. reboot')
    .action(async (device: string, name: string, opts: SendFlags) => {
      const api = await connect(opts)
      let c = await api.post<DeviceCommand>(
        pathOf`/api/v1/devices/${device}/commands`,
        body(opts, name),
      )
      if (opts.wait !== undefined)
        c = await follow(
          ctx,
          opts.json,
          opts.wait,
          () => readCommand(api, c.id),
          (v) => finalStatuses.has(v.status),
          (v) => `${v.id}: ${v.status}`,
        )
      emit(out, opts.json, c, () => commandText(c))
    })

  remoteVerb(ctx, commands, 'list')
    .description("a device's commands, newest first")
    .argument('<device>', 'the device id')
    .option('--limit <n>', 'at most this many (1–1000, default 50)', parseLimit)
    .action(async (device: string, opts: RemoteFlags & { json?: boolean; limit?: number }) => {
      const api = await connect(opts)
      const page = await api.get<{ items: DeviceCommand[] }>(
        pathOf`/api/v1/devices/${device}/commands`,
        {
          limit: opts.limit,
        },
      )
      emit(out, opts.json, page, () =>
        table(
          out,
          ['id', 'name', 'status', 'created', 'finished'],
          page.items.map((c) => [c.id, c.name, c.status, when(c.createdAt), when(c.finishedAt)]),
          'no commands',
        ),
      )
    })

  remoteVerb(ctx, commands, 'show')
    .description('one command, its status and result')
    .argument('<id>', 'the command id')
    .action(async (id: string, opts: RemoteFlags & { json?: boolean }) => {
      const c = await readCommand(await connect(opts), id)
      emit(out, opts.json, c, () => commandText(c))
    })

  sendOptions(remoteVerb(ctx, commands, 'bulk'))
    .description('send a command to every device of a group, as a job you can follow')
    .argument('<group>', 'the group id')
    .argument('<name>', 'the command')
    .action(async (groupId: string, name: string, opts: SendFlags) => {
      const api = await connect(opts)
      let job = await api.post<CommandJob>(
        pathOf`/api/v1/groups/${groupId}/commands`,
        body(opts, name),
      )
      if (opts.wait !== undefined)
        job = await follow(
          ctx,
          opts.json,
          opts.wait,
          () => readJob(api, job.id),
          (j) => j.done,
          jobText,
        )
      emit(out, opts.json, job, () => jobText(job))
    })

  remoteVerb(ctx, commands, 'job')
    .description('the progress of a bulk command job')
    .argument('<id>', 'the job id')
    .option('--wait <d>', 'wait this long for it to finish, showing progress', parseDuration)
    .action(async (id: string, opts: RemoteFlags & { json?: boolean; wait?: number }) => {
      const api = await connect(opts)
      const job =
        opts.wait === undefined
          ? await readJob(api, id)
          : await follow(
              ctx,
              opts.json,
              opts.wait,
              () => readJob(api, id),
              (j) => j.done,
              jobText,
            )
      emit(out, opts.json, job, () => jobText(job))
    })
}

function readCommand(api: ApiClient, id: string): Promise<DeviceCommand> {
  return api.get<DeviceCommand>(pathOf`/api/v1/commands/${id}`)
}

function readJob(api: ApiClient, id: string): Promise<CommandJob> {
  return api.get<CommandJob>(pathOf`/api/v1/command-jobs/${id}`)
}
