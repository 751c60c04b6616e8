import assert from 'node:assert/strict'
import { test } from 'node:test'
import { alarmStep } from './rule-alarms.js'

const open = () => true
const closed = () => false
const never = () => assert.fail('isOpen must not be asked')

test('a match raises an alarm unless it is open already', () => {
  assert.equal(alarmStep({ selected: true, matched: true }, true, closed), 'raise')
  assert.equal(alarmStep({ selected: true, matched: true }, true, open), 'none')
  assert.equal(alarmStep({ selected: true, matched: true }, false, closed), 'raise')
})

test('a selected message that does not match clears an open alarm with autoClear', () => {
  assert.equal(alarmStep({ selected: true, matched: false }, true, open), 'clear')
  assert.equal(alarmStep({ selected: true, matched: false }, true, closed), 'none')
})

test('nothing clears without autoClear, on an unselected message, an error or a missing field', () => {
  assert.equal(alarmStep({ selected: true, matched: false }, false, never), 'none')
  assert.equal(alarmStep({ selected: false, matched: false }, true, never), 'none')
  assert.equal(
    alarmStep({ selected: true, matched: false, error: new Error('x') }, true, never),
    'none',
  )
  assert.equal(
    alarmStep({ selected: true, matched: false, missing: 'payload.temp' }, true, never),
    'none',
  )
})
