// AWS errors as the AWS SDK for JavaScript v3 shows them: the error class's name, the HTTP
// status ($metadata.httpStatusCode) and AWS's message (kms-spec.md 1.5-1.7 and 19).
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { before, test } from 'node:test'
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateRandomCommand,
  ListKeysCommand,
  ScheduleKeyDeletionCommand
} from '@aws-sdk/client-kms'
import { credentials, endpoint, kmsClient, refused } from '../lib/strongroom.js'

const kms = kmsClient()
// A dev-mode server takes any access key it does not know as its account's root: no refusal to
// see there. The pytest driver runs these tests against a production-mode server.
const { dev } = await (await fetch(`${endpoint}/_strongroom/health`)).json()
let key, account, keyArnPrefix

before(async () => {
  key = (await kms.send(new CreateKeyCommand({ Description: 'js errors' }))).KeyMetadata
  account = key.AWSAccountId
  keyArnPrefix = key.Arn.replace(/:key\/.*$/, ':')
})

test('NotFoundException for an unknown key, alias or malformed key id', async () => {
  const unknown = randomUUID()
  await refused(kms.send(new DescribeKeyCommand({ KeyId: unknown })), 'NotFoundException', 400,
    `Key '${keyArnPrefix}key/${unknown}' does not exist`)
  await refused(kms.send(new EncryptCommand({ KeyId: unknown, Plaintext: Buffer.from('x') })),
    'NotFoundException', 400, `Key '${keyArnPrefix}key/${unknown}' does not exist`)
  await refused(kms.send(new EncryptCommand({ KeyId: 'alias/js-missing', Plaintext: Buffer.from('x') })),
    'NotFoundException', 400, `Alias ${keyArnPrefix}alias/js-missing is not found.`)
  await refused(kms.send(new DescribeKeyCommand({ KeyId: 'fake-key-id' })), 'NotFoundException', 400,
    "Invalid keyId 'fake-key-id'")
  assert.match(account, /^\d{12}$/)
})

test('ValidationException with AWS wording, checked by the server', async () => {
  // The JavaScript SDK checks no constraints itself: these reach Strongroom as sent.
  await refused(kms.send(new GenerateRandomCommand({ NumberOfBytes: 0 })), 'ValidationException', 400,
    "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy constraint: " +
    'Member must have value greater than or equal to 1')
  await refused(kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 1025 })),
    'ValidationException', 400,
    "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: " +
    'Member must have value less than or equal to 1024')
  // A sensitive member's value is left out of the message.
  const error = await refused(kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(4097) })),
    'ValidationException', 400,
    "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: " +
    'Member must have length less than or equal to 4096')
  assert.ok(!error.message.includes('Value \''))
  assert.equal((await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: randomBytes(4096) })))
    .KeyId, key.Arn)
})

test('InvalidCiphertextException and IncorrectKeyException on Decrypt', async () => {
  const { CiphertextBlob } = await kms.send(new EncryptCommand({
    KeyId: key.KeyId, Plaintext: Buffer.from('secret'), EncryptionContext: { a: '1' }
  }))
  const tampered = Buffer.from(CiphertextBlob)
  tampered[tampered.length - 1] ^= 0x01
  // AWS sends these with no message; the SDK shows 'UnknownError' then.
  for (const blob of [tampered, randomBytes(64)]) {
    const error = await refused(kms.send(new DecryptCommand({
      CiphertextBlob: blob, EncryptionContext: { a: '1' }
    })), 'InvalidCiphertextException', 400, 'UnknownError')
    assert.equal(error.Plaintext, undefined)
  }
  const other = (await kms.send(new CreateKeyCommand({}))).KeyMetadata
  await refused(kms.send(new DecryptCommand({
    CiphertextBlob, EncryptionContext: { a: '1' }, KeyId: other.KeyId
  })), 'IncorrectKeyException', 400,
  'The key ID in the request does not identify a CMK that can perform this operation.')
})

test('DisabledException for a disabled key, and back after EnableKey', async () => {
  const disabled = (await kms.send(new CreateKeyCommand({}))).KeyMetadata
  const { CiphertextBlob } = await kms.send(new EncryptCommand({
    KeyId: disabled.KeyId, Plaintext: Buffer.from('before')
  }))
  await kms.send(new DisableKeyCommand({ KeyId: disabled.KeyId }))
  const described = (await kms.send(new DescribeKeyCommand({ KeyId: disabled.KeyId }))).KeyMetadata
  assert.equal(described.KeyState, 'Disabled')
  assert.equal(described.Enabled, false)
  await refused(kms.send(new EncryptCommand({ KeyId: disabled.KeyId, Plaintext: Buffer.from('x') })),
    'DisabledException', 400, `${disabled.Arn} is disabled.`)
  await refused(kms.send(new DecryptCommand({ CiphertextBlob })),
    'DisabledException', 400, `${disabled.Arn} is disabled.`)

  await kms.send(new EnableKeyCommand({ KeyId: disabled.KeyId }))
  const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob }))
  assert.equal(Buffer.from(decrypted.Plaintext).toString(), 'before')
})

test('KMSInvalidStateException for a key pending deletion', async () => {
  const doomed = (await kms.send(new CreateKeyCommand({}))).KeyMetadata
  const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: doomed.KeyId }))
  assert.equal(scheduled.KeyState, 'PendingDeletion')
  assert.equal(scheduled.PendingWindowInDays, 30)
  assert.ok(scheduled.DeletionDate instanceof Date)
  await refused(kms.send(new EncryptCommand({ KeyId: doomed.KeyId, Plaintext: Buffer.from('x') })),
    'KMSInvalidStateException', 400, `${doomed.Arn} is pending deletion.`)
})

test('A wrong secret or an unknown access key is refused', {
  skip: dev && 'a dev-mode server accepts unknown access keys'
}, async () => {
  const wrongSecret = kmsClient({ credentials: { ...credentials, secretAccessKey: 'not-the-secret' } })
  await refused(wrongSecret.send(new ListKeysCommand({})), 'InvalidSignatureException', 400,
    'The request signature we calculated does not match the signature you provided. Check your ' +
    'AWS Secret Access Key and signing method. Consult the service documentation for details.')
  const stranger = kmsClient({ credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' } })
  await refused(stranger.send(new ListKeysCommand({})), 'UnrecognizedClientException', 400,
    'The security token included in the request is invalid.')
})
