// HMAC keys through the AWS SDK for JavaScript v3: GenerateMac, VerifyMac, and the refusals.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { before, test } from 'node:test'
import { CreateKeyCommand, GenerateMacCommand, VerifyMacCommand } from '@aws-sdk/client-kms'
import { kmsClient, refused } from '../lib/strongroom.js'

const kms = kmsClient()
const ALGORITHM = 'HMAC_SHA_256'
const MESSAGE = Buffer.from('GET /orders/42 2026-12-08T00:00:00Z')
let key

before(async () => {
  key = (await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })))
    .KeyMetadata
})

function generate (Message) {
  return kms.send(new GenerateMacCommand({ KeyId: key.KeyId, Message, MacAlgorithm: ALGORITHM }))
}

function verifyMac (Message, Mac) {
  return kms.send(new VerifyMacCommand({ KeyId: key.Arn, Message, Mac, MacAlgorithm: ALGORITHM }))
}

test('GenerateMac and VerifyMac round trip', async () => {
  const made = await generate(MESSAGE)
  assert.equal(made.KeyId, key.Arn)
  assert.equal(made.MacAlgorithm, ALGORITHM)
  assert.equal(made.Mac.length, 32)
  // An HMAC is a function of key and message: the same again, another for another message.
  assert.deepEqual(Buffer.from((await generate(MESSAGE)).Mac), Buffer.from(made.Mac))
  assert.notDeepEqual(Buffer.from((await generate(randomBytes(8))).Mac), Buffer.from(made.Mac))

  const verified = await verifyMac(MESSAGE, made.Mac)
  assert.equal(verified.MacValid, true)
  assert.equal(verified.KeyId, key.Arn)
  assert.equal(verified.MacAlgorithm, ALGORITHM)
})

test('A tampered MAC or message is refused as KMSInvalidMacException', async () => {
  const { Mac } = await generate(MESSAGE)
  const tampered = Buffer.from(Mac)
  tampered[7] ^= 0x01
  // AWS sends this error without a message; the SDK then shows 'UnknownError'.
  const error = await refused(verifyMac(MESSAGE, tampered), 'KMSInvalidMacException', 400, 'UnknownError')
  assert.equal(error.MacValid, undefined)
  await refused(verifyMac(Buffer.concat([MESSAGE, Buffer.from('?')]), Mac),
    'KMSInvalidMacException', 400, 'UnknownError')
  await refused(verifyMac(MESSAGE, Mac.subarray(0, 31)), 'KMSInvalidMacException', 400, 'UnknownError')
})

test('A MAC algorithm of another key spec is refused', async () => {
  await refused(kms.send(new GenerateMacCommand({
    KeyId: key.KeyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_384'
  })), 'InvalidKeyUsageException', 400, 'Algorithm HMAC_SHA_384 is incompatible with key spec HMAC_256.')
})
