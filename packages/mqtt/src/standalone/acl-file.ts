import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { checkTopic } from '@strata/protocol'
import {
  createAclRules,
  mqttLimits,
  type AclAccess,
  type AclEntry,
  type AclRules,
  type AclTable,
} from './acl-rules.js'
import { ConfigError } from './config-error.js'

/** ACL files larger than this are refused. */
const maxAclFileBytes = 16 * 1024 * 1024

const accessTypes: readonly AclAccess[] = ['read', 'write', 'readwrite', 'deny']

interface ParseState {
  readonly file: string
  readonly anonymous: AclEntry[]
  readonly users: Map<string, AclEntry[]>
  readonly patterns: AclEntry[]
  user: string | undefined
}

/**
 * Parses a Mosquitto ACL file (mosquitto.conf(5), `acl_file`):
 *
 * ```
 * # Anonymous clients: the lines before any user line.
 * topic read $SYS/#
 * user roger
 * # readwrite when no access type is given; deny wins over any grant.
 * topic foo/bar
 * topic deny foo/bar/secret
 * # Every client, whatever the user line above: %c is the client id, %u the user name.
 * pattern write sensor/%u/data
 * ```
 *
 * Comments are whole lines starting with `#`; there are no end-of-line comments.
 *
 * Unlike Mosquitto, which skips lines it does not understand, unknown keywords are errors, and
 * `%c`/`%u` must be a whole level of a `pattern` (mosquitto.conf(5): "The substitution pattern
 * must be the only text for that level of hierarchy"; Mosquitto would read anything else as
 * literal text, and a literal `deny` protects nothing).
 *
 * @throws ConfigError `MQTT_ACL_FILE_INVALID` naming file and line.
 * @example
 * const acl = parseAclFile('user roger\ntopic read sensors/+/temp\n', 'acl')
 * acl.canSubscribe({ clientId: 'c1', username: 'roger' }, 'sensors/kitchen/temp') // true
 * acl.canSubscribe({ clientId: 'c1', username: 'roger' }, 'sensors/#') // false
 */
export function parseAclFile(text: string, file: string): AclRules {
  return createAclRules(parseAclTable(text, file))
}

/**
 * Reads and parses an ACL file.
 *
 * @example
 * const acl = await loadAclFile(config.aclFile)
 */
export async function loadAclFile(path: string): Promise<AclRules> {
  const abs = resolve(path)
  let text: string
  try {
    if ((await stat(abs)).size > maxAclFileBytes) throw new Error('the file is over 16 MiB')
    text = await readFile(abs, 'utf8')
  } catch (err) {
    throw new ConfigError(
      'MQTT_FILE_UNREADABLE',
      `cannot read ACL file ${abs}: ${err instanceof Error ? err.message : String(err)}`,
      { hint: 'Check acl_file and the file permissions.', cause: err },
    )
  }
  return parseAclFile(text, abs)
}

/** The table behind {@link parseAclFile}, for tests and tools. */
export function parseAclTable(text: string, file: string): AclTable {
  const state: ParseState = { file, anonymous: [], users: new Map(), patterns: [], user: undefined }
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const trimmed = (lines[i] ?? '').trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    parseLine(state, trimmed, i + 1)
  }
  return { anonymous: state.anonymous, users: state.users, patterns: state.patterns }
}

function parseLine(state: ParseState, text: string, line: number): void {
  const match = /^(\S+)(?:\s+(.*))?$/.exec(text)
  const keyword = match?.[1] ?? ''
  const rest = match?.[2] ?? ''
  if (keyword === 'user') {
    if (rest === '') fail(state, line, 'user needs a user name')
    state.user = rest
    return
  }
  if (keyword !== 'topic' && keyword !== 'pattern') {
    fail(
      state,
      line,
      `unknown keyword ${JSON.stringify(keyword)}`,
      'Lines start with topic, pattern or user.',
    )
  }
  const entry = parseEntry(state, line, keyword, rest)
  if (keyword === 'pattern') state.patterns.push(entry)
  else if (state.user === undefined) state.anonymous.push(entry)
  else {
    // Repeated `user` sections add to the same list, as Mosquitto's add__acl does.
    const list = state.users.get(state.user) ?? []
    list.push(entry)
    state.users.set(state.user, list)
  }
}

/** `topic|pattern [read|write|readwrite|deny] TOPIC`; the topic may contain spaces. */
function parseEntry(state: ParseState, line: number, keyword: string, rest: string): AclEntry {
  if (rest === '') fail(state, line, `${keyword} needs a topic`)
  const match = /^(\S+)(?:\s+(.*))?$/.exec(rest)
  const first = match?.[1] ?? rest
  const topic = match?.[2]
  if (topic === undefined)
    return { access: 'readwrite', topic: checked(state, line, keyword, first), line }
  const access = accessTypes.find((a) => a === first)
  if (access === undefined) {
    fail(
      state,
      line,
      `invalid access type ${JSON.stringify(first)}`,
      `Write "${keyword} [read|write|readwrite|deny] TOPIC"; a topic with a space needs the access type.`,
    )
  }
  return { access, topic: checked(state, line, keyword, topic), line }
}

function checked(state: ParseState, line: number, keyword: string, topic: string): string {
  const levels = topic.split('/')
  const substitutes = levels.some((l) => l.includes('%c') || l.includes('%u'))
  if (substitutes && keyword === 'topic') {
    fail(
      state,
      line,
      `topic ${JSON.stringify(topic)} contains %c or %u, which only pattern lines substitute`,
      `Write "pattern" instead of "topic".`,
    )
  }
  if (levels.some((l) => l !== '%c' && l !== '%u' && (l.includes('%c') || l.includes('%u')))) {
    fail(
      state,
      line,
      `pattern ${JSON.stringify(topic)}: %c and %u must be a whole topic level`,
      'Write e.g. devices/%c/# rather than devices/dev-%c/#.',
    )
  }
  const plain = levels.map((l) => (l === '%c' || l === '%u' ? 'x' : l)).join('/')
  const check = checkTopic(plain, 'filter', mqttLimits)
  if (!check.ok) fail(state, line, `invalid topic ${JSON.stringify(topic)}: ${check.reason}`)
  return topic
}

function fail(state: ParseState, line: number, message: string, hint?: string): never {
  throw new ConfigError('MQTT_ACL_FILE_INVALID', `${state.file}:${String(line)}: ${message}`, {
    ...(hint === undefined ? {} : { hint }),
    details: { file: state.file, line },
  })
}
