import type { JsonObject } from '@strata/protocol'
import { CloudError } from '../errors.js'
import { decodeCursor } from '../http/cursor.js'
import type { AlarmPageKey } from './alarm-store.js'
import {
  alarmSeverities,
  type Alarm,
  type AlarmOptions,
  type AlarmRaise,
  type AlarmSeverity,
} from './alarm-types.js'

// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const controlCharacters = /[\u0000-\u001f\u007f]/

/** An alarm type: 1–`maxTypeLength` characters, no control characters, no outer spaces. */
export function checkType(type: string, o: AlarmOptions): string {
  if (
    type.length === 0 ||
    type.length > o.maxTypeLength ||
    type.trim() !== type ||
    controlCharacters.test(type)
  ) {
    throw new CloudError(
      'CLOUD_INVALID',
      `alarm type ${JSON.stringify(type.slice(0, 80))} must be 1–${String(o.maxTypeLength)} characters without control characters or leading and trailing spaces`,
      { details: { field: 'type' } },
    )
  }
  return type
}

export function checkSeverity(severity: string): AlarmSeverity {
  if (!(alarmSeverities as readonly string[]).includes(severity)) {
    throw new CloudError(
      'CLOUD_INVALID',
      `alarm severity ${JSON.stringify(severity.slice(0, 40))} is not one of ${alarmSeverities.join(', ')}`,
      { details: { field: 'severity' } },
    )
  }
  return severity as AlarmSeverity
}

/**
 * A message cut to `maxMessageBytes` of UTF-8 (ending in …) rather than refused: a rule whose
 * template makes a long message must still raise its alarm.
 */
export function cutMessage(message: string | undefined, o: AlarmOptions): string | null {
  if (message === undefined) return null
  if (Buffer.byteLength(message) <= o.maxMessageBytes) return message
  let cut = Buffer.from(message)
    .subarray(0, o.maxMessageBytes - 3)
    .toString('utf8')
  // A cut inside a multi-byte character decodes to U+FFFD at the end: drop it.
  if (cut.endsWith('\ufffd')) cut = cut.slice(0, -1)
  return `${cut}…`
}

export function checkDetails(details: JsonObject | undefined, o: AlarmOptions): JsonObject | null {
  if (details === undefined) return null
  if (Buffer.byteLength(JSON.stringify(details)) > o.maxDetailsBytes) {
    throw new CloudError(
      'CLOUD_INVALID',
      `alarm details are over ${String(o.maxDetailsBytes)} bytes of JSON`,
      {
        hint: 'Keep details to the few values that explain the alarm.',
        details: { field: 'details' },
      },
    )
  }
  return details
}

export function checkComment(text: string, o: AlarmOptions): string {
  if (text.trim() === '' || Buffer.byteLength(text) > o.maxCommentBytes) {
    throw new CloudError(
      'CLOUD_INVALID',
      `a comment must be 1–${String(o.maxCommentBytes)} bytes of UTF-8 and not blank`,
      { details: { field: 'text' } },
    )
  }
  return text
}

/** Who a raise is by in the history: `rule:<name>`, or the user's actor name. */
export function byOf(source: AlarmRaise['source']): string {
  if ('user' in source) return source.user
  return source.rule === undefined ? 'system' : `rule:${source.rule}`
}

export function pageKeyOf(cursor: string): AlarmPageKey {
  const [raisedAt, seq] = decodeCursor(cursor).split(':').map(Number)
  if (!Number.isSafeInteger(raisedAt) || !Number.isSafeInteger(seq)) {
    throw new CloudError('CLOUD_INVALID', 'the cursor is not one this API returned', {
      hint: 'Pass nextCursor from the previous page unchanged.',
      details: { field: 'cursor' },
    })
  }
  return { raisedAt: raisedAt as number, seq: seq as number }
}

export function stateError(alarm: Alarm, wanted: string, needs: string): CloudError {
  return new CloudError(
    'CLOUD_ALARM_STATE',
    `alarm ${alarm.id} is ${alarm.status}; only an ${needs} alarm can be ${wanted}`,
    {
      hint: 'Read the alarm again: someone or its rule may have changed it.',
      details: { status: alarm.status },
    },
  )
}
