import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertHostAllowed, isPublicAddress } from './address-policy.js'

test('tells public addresses from loopback, private, link-local and reserved ones', () => {
  const notPublic = [
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fc12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe', // 169.254.169.254, mapped, in hex
    '64:ff9b::a9fe:a9fe', // ...and through NAT64
    '64:ff9b::10.0.0.1',
    '2001:db8::1',
    'not-an-address',
  ]
  for (const a of notPublic) assert.equal(isPublicAddress(a), false, a)
  const isPublic = [
    '1.1.1.1',
    '93.184.215.14',
    '172.32.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
  ]
  for (const a of isPublic) assert.equal(isPublicAddress(a), true, a)
})

test('a name is refused when any address it resolves to is not public', async () => {
  const strict = { allowPrivateNetworks: false }
  const resolveTo = (addresses: string[]) => () => Promise.resolve(addresses)
  await assertHostAllowed('ok.example', strict, resolveTo(['93.184.215.14']))
  await assert.rejects(
    assertHostAllowed('mixed.example', strict, resolveTo(['93.184.215.14', '10.0.0.7'])),
    {
      code: 'CLOUD_DELIVERY_ADDRESS_FORBIDDEN',
    },
  )
  await assert.rejects(assertHostAllowed('none.example', strict, resolveTo([])), {
    code: 'CLOUD_DELIVERY_ADDRESS_FORBIDDEN',
  })
  await assert.rejects(
    assertHostAllowed('gone.example', strict, () => Promise.reject(new Error('ENOTFOUND'))),
    (err: { code: string; retryable: boolean }) =>
      err.code === 'CLOUD_DELIVERY_FAILED' && err.retryable,
  )
  await assertHostAllowed('mixed.example', { allowPrivateNetworks: true }, resolveTo(['10.0.0.7']))
})
