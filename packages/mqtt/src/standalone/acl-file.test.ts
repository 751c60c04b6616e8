import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { topicMatches } from '@strata/protocol'
import { loadAclFile, parseAclFile } from './acl-file.js'
import type { AclClient } from './acl-rules.js'
import { ConfigError } from './config-error.js'

const anonymous: AclClient = { clientId: 'anon-1' }
const user = (username: string, clientId = `${username}-client`): AclClient => ({
  clientId,
  username,
})

function aclError(text: string, message: RegExp): void {
  assert.throws(
    () => parseAclFile(text, '/etc/strata/acl'),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.code === 'MQTT_ACL_FILE_INVALID' &&
      message.test(err.message),
  )
}

describe('parseAclFile: the examples of mosquitto.conf(5) and aclfile.example', () => {
  const acl = parseAclFile(
    [
      '# This affects access control for clients with no username.',
      'topic read $SYS/#',
      '',
      '# This only affects clients with username "roger".',
      'user roger',
      'topic foo/bar',
      '',
      '# This affects all clients.',
      'pattern write $SYS/broker/connection/%c/state',
      'pattern write sensor/%u/data',
    ].join('\n'),
    'aclfile.example',
  )

  it('gives the first topics to anonymous clients only', () => {
    assert.equal(acl.canSubscribe(anonymous, '$SYS/#'), true)
    assert.equal(acl.canReceive(anonymous, '$SYS/broker/uptime'), true)
    assert.equal(acl.canPublish(anonymous, '$SYS/broker/uptime'), false)
    assert.equal(acl.canSubscribe(user('roger'), '$SYS/#'), false)
  })

  it('gives topics after "user roger" to roger, read and write when no access is given', () => {
    assert.equal(acl.canPublish(user('roger'), 'foo/bar'), true)
    assert.equal(acl.canSubscribe(user('roger'), 'foo/bar'), true)
    assert.equal(acl.canPublish(user('rogers'), 'foo/bar'), false)
    assert.equal(acl.canPublish(anonymous, 'foo/bar'), false)
  })

  it('applies patterns to every client, substituting %c and %u', () => {
    for (const client of [anonymous, user('roger', 'bridge-1')]) {
      const own = `$SYS/broker/connection/${client.clientId}/state`
      assert.equal(acl.canPublish(client, own), true)
      assert.equal(acl.canPublish(client, '$SYS/broker/connection/other/state'), false)
    }
    // The pattern is write only; roger has no read entry for it (anonymous ones read $SYS/#).
    assert.equal(
      acl.canSubscribe(user('roger', 'bridge-1'), '$SYS/broker/connection/bridge-1/state'),
      false,
    )
    assert.equal(acl.canPublish(user('s1'), 'sensor/s1/data'), true)
    assert.equal(acl.canPublish(user('s1'), 'sensor/s2/data'), false)
    // mosquitto_topic_matches_sub_with_pattern: "If NULL, then any %u patterns will not match".
    assert.equal(acl.canPublish(anonymous, 'sensor//data'), false)
  })
})

describe('parseAclFile: semantics', () => {
  it('lets deny win over grants, wherever the lines are', () => {
    for (const text of [
      'topic readwrite sensors/#\ntopic deny sensors/secret/#',
      'topic deny sensors/secret/#\ntopic readwrite sensors/#',
    ]) {
      const acl = parseAclFile(text, 'acl')
      assert.equal(acl.canPublish(anonymous, 'sensors/a/temp'), true)
      assert.equal(acl.canPublish(anonymous, 'sensors/secret/key'), false)
      assert.equal(acl.canReceive(anonymous, 'sensors/secret'), false)
      assert.equal(acl.canSubscribe(anonymous, 'sensors/a/#'), true)
      // These filters could deliver sensors/secret/…: refused at SUBSCRIBE.
      assert.equal(acl.canSubscribe(anonymous, 'sensors/#'), false)
      assert.equal(acl.canSubscribe(anonymous, 'sensors/+/temp'), false)
    }
  })

  it('lets a deny pattern win over a user grant', () => {
    const acl = parseAclFile('user ops\ntopic readwrite #\npattern deny private/%u/#', 'acl')
    assert.equal(acl.canPublish(user('ops'), 'public/x'), true)
    assert.equal(acl.canPublish(user('ops'), 'private/ops/x'), false)
    assert.equal(acl.canPublish(user('ops'), 'private/eve/x'), true)
  })

  it('confines each client to its own subtree with %c', () => {
    const acl = parseAclFile('pattern readwrite devices/%c/#', 'acl')
    const pump = { clientId: 'pump-1' }
    assert.equal(acl.canPublish(pump, 'devices/pump-1/telemetry'), true)
    assert.equal(acl.canPublish(pump, 'devices/pump-1'), true)
    assert.equal(acl.canPublish(pump, 'devices/pump-2/telemetry'), false)
    assert.equal(acl.canSubscribe(pump, 'devices/pump-1/#'), true)
    assert.equal(acl.canSubscribe(pump, 'devices/+/telemetry'), false)
    assert.equal(acl.canSubscribe(pump, 'devices/#'), false)
    assert.equal(acl.canSubscribe(pump, '#'), false)
  })

  it('refuses %c and %u substitution for ids with +, # or /, or starting a topic with $', () => {
    const acl = parseAclFile(
      'pattern readwrite devices/%c/#\npattern read users/%u/#\npattern read %c/#',
      'acl',
    )
    // Mosquitto 2.0.11 lets client "owner/evil" publish devices/owner/evil/cmd, into owner's tree.
    assert.equal(acl.canPublish({ clientId: 'owner/evil' }, 'devices/owner/evil/cmd'), false)
    assert.equal(acl.canSubscribe({ clientId: '+' }, 'devices/+/#'), false)
    assert.equal(acl.canPublish({ clientId: '+' }, 'devices/x/y'), false)
    assert.equal(acl.canSubscribe({ clientId: '#' }, 'devices/#'), false)
    assert.equal(acl.canSubscribe({ clientId: 'c', username: 'a/b' }, 'users/a/b/#'), false)
    assert.equal(acl.canSubscribe({ clientId: 'c', username: '+' }, 'users/+/#'), false)
    // CVE-2017-7650 is about the same trick; a plain id keeps its access.
    assert.equal(acl.canSubscribe({ clientId: 'c', username: 'ab' }, 'users/ab/#'), true)
    // %c as the first level must not reach the server's $SYS tree.
    assert.equal(acl.canSubscribe({ clientId: '$SYS' }, '$SYS/#'), false)
  })

  it('still applies deny patterns to such ids, in their widest form', () => {
    const acl = parseAclFile('topic readwrite #\npattern deny devices/%c/secret', 'acl')
    const sneaky = { clientId: 'x/y' }
    assert.equal(acl.canPublish(sneaky, 'devices/x/y/secret'), false)
    assert.equal(acl.canPublish(sneaky, 'devices/z'), false)
    assert.equal(acl.canPublish(sneaky, 'other/topic'), true)
    assert.equal(acl.canPublish({ clientId: 'x' }, 'devices/x/secret'), false)
    assert.equal(acl.canPublish({ clientId: 'x' }, 'devices/z/secret'), true)
  })

  it('merges repeated user sections and gives unlisted users nothing', () => {
    const acl = parseAclFile(
      'topic read public/#\nuser a\ntopic read x\nuser b\ntopic read y\nuser a\ntopic read z',
      'acl',
    )
    assert.equal(acl.canSubscribe(user('a'), 'x'), true)
    assert.equal(acl.canSubscribe(user('a'), 'z'), true)
    assert.equal(acl.canSubscribe(user('a'), 'y'), false)
    assert.equal(acl.canSubscribe(user('nobody'), 'public/#'), false)
    assert.equal(acl.canSubscribe(anonymous, 'public/#'), true)
  })

  it('checks the inner filter of shared subscriptions', () => {
    const acl = parseAclFile('topic read sensors/#', 'acl')
    assert.equal(acl.canSubscribe(anonymous, '$share/group/sensors/+/temp'), true)
    assert.equal(acl.canSubscribe(anonymous, '$share/group/other/#'), false)
    assert.equal(acl.canSubscribe(anonymous, '$share/group/#'), false)
    assert.equal(acl.canSubscribe(anonymous, '$share//sensors/a'), false)
    assert.equal(acl.canSubscribe(anonymous, '$share/group'), false)
  })

  it('refuses invalid topics and filters', () => {
    const acl = parseAclFile('topic readwrite #', 'acl')
    assert.equal(acl.canPublish(anonymous, 'a/+'), false)
    assert.equal(acl.canPublish(anonymous, ''), false)
    assert.equal(acl.canSubscribe(anonymous, 'a/#/b'), false)
    assert.equal(acl.canSubscribe(anonymous, 'a+'), false)
  })

  it('reads topics with spaces when the access type is given', () => {
    const acl = parseAclFile('topic read  my room/temp', 'acl')
    assert.equal(acl.canReceive(anonymous, 'my room/temp'), true)
  })
})

describe('parseAclFile: errors name file and line', () => {
  it('refuses lines it does not understand', () => {
    aclError('topic read a\n\nallow all', /^\/etc\/strata\/acl:3: unknown keyword "allow"$/)
    aclError('topic reed a/b', /acl:1: invalid access type "reed"/)
    aclError('topic my room', /acl:1: invalid access type "my"/)
    aclError('topic', /acl:1: topic needs a topic/)
    aclError('user', /acl:1: user needs a user name/)
    aclError('topic read a/#/b', /acl:1: invalid topic "a\/#\/b": '#' must be a whole level/)
    aclError('topic read devices/%c/#', /acl:1: .*only pattern lines substitute/)
    aclError('pattern read devices/dev-%c/#', /acl:1: .*%c and %u must be a whole topic level/)
  })

  it('reports a file it cannot read', async () => {
    await assert.rejects(loadAclFile('/nonexistent/acl'), (err: unknown) => {
      return err instanceof ConfigError && err.code === 'MQTT_FILE_UNREADABLE'
    })
  })
})

const filterArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '$s', '+'), { maxLength: 3 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((f) => f !== '')
const topicArb = fc
  .array(fc.constantFrom('a', 'b', 'c', '', '$s'), { minLength: 1, maxLength: 5 })
  .map((levels) => levels.join('/'))
  .filter((t) => t !== '')

describe('parseAclFile: properties', () => {
  it('grants a SUBSCRIBE only when the read topic matches every topic the filter does', () => {
    fc.assert(
      fc.property(
        filterArb,
        filterArb,
        fc.array(topicArb, { maxLength: 40 }),
        (granted, filter, topics) => {
          const acl = parseAclFile(`topic read ${granted}`, 'acl')
          if (!acl.canSubscribe(anonymous, filter)) return
          for (const topic of topics) {
            if (topicMatches(filter, topic))
              assert.ok(topicMatches(granted, topic), `${granted} ⊉ ${filter}: ${topic}`)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('never grants a SUBSCRIBE that could deliver a denied topic', () => {
    fc.assert(
      fc.property(
        filterArb,
        filterArb,
        fc.array(topicArb, { maxLength: 40 }),
        (denied, filter, topics) => {
          const acl = parseAclFile(`topic read #\ntopic read $s/#\ntopic deny ${denied}`, 'acl')
          if (!acl.canSubscribe(anonymous, filter)) return
          for (const topic of topics) {
            assert.ok(
              !(topicMatches(filter, topic) && topicMatches(denied, topic)),
              `${filter} delivers ${topic}`,
            )
          }
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('grants a PUBLISH exactly when the write topic matches', () => {
    fc.assert(
      fc.property(filterArb, topicArb, (granted, topic) => {
        const acl = parseAclFile(`topic write ${granted}`, 'acl')
        assert.equal(acl.canPublish(anonymous, topic), topicMatches(granted, topic))
        assert.equal(acl.canReceive(anonymous, topic), false)
      }),
      { numRuns: 2000 },
    )
  })
})
