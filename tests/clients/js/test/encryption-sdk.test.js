// The AWS Encryption SDK for JavaScript (@aws-crypto/client-node) against Strongroom: a message
// round trip through KmsKeyringNode with the key's ARN, the encryption context in the header,
// and the refusals (another key, a changed header).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { before, test } from 'node:test'
import { CreateKeyCommand, DecryptCommand, DisableKeyCommand } from '@aws-sdk/client-kms'
import { decrypt, encrypt, headerSummary, kmsKeyring } from '../lib/esdk.js'
import { kmsClient, region, rejection } from '../lib/strongroom.js'

const kms = kmsClient()
const CONTEXT = { purpose: 'js-esdk-test', tenant: 'acme' }
// The SDK's default suite: AES-256-GCM, HKDF-SHA-512, key commitment, ECDSA P-384 signatures.
const DEFAULT_SUITE = 0x0578
const plaintext = randomBytes(5000)
let key, other, message, header

before(async () => {
  [key, other] = await Promise.all([
    kms.send(new CreateKeyCommand({ Description: 'js esdk' })),
    kms.send(new CreateKeyCommand({ Description: 'js esdk other' }))
  ]).then((replies) => replies.map((reply) => reply.KeyMetadata))
  const regions = []
  const encrypted = await encrypt(kmsKeyring(key.Arn, regions), plaintext, {
    encryptionContext: CONTEXT, frameLength: 1024
  })
  message = encrypted.result
  header = encrypted.messageHeader
  assert.deepEqual(regions, [region])
})

test('Encryption SDK message round trip through KmsKeyringNode', async () => {
  assert.ok(Buffer.isBuffer(message))
  assert.equal(message.indexOf(plaintext.subarray(0, 16)), -1)
  const written = headerSummary(header)
  assert.equal(written.version, 2)
  assert.equal(written.suiteId, DEFAULT_SUITE)
  assert.deepEqual(written.encryptedDataKeys, [{ providerId: 'aws-kms', providerInfo: key.Arn }])
  // The signing suite adds its public key to the context that KMS binds the data key to.
  assert.deepEqual(Object.keys(written.encryptionContext).sort(),
    ['aws-crypto-public-key', ...Object.keys(CONTEXT)].sort())
  assert.equal(written.encryptionContext.tenant, 'acme')

  const regions = []
  const decrypted = await decrypt(kmsKeyring(key.Arn, regions), message)
  assert.deepEqual(decrypted.plaintext, plaintext)
  assert.deepEqual(headerSummary(decrypted.messageHeader), written)
  assert.deepEqual(regions, [region])

  // The wrapped data key is an ordinary Strongroom ciphertext, bound to the whole context.
  const [edk] = header.encryptedDataKeys
  const opened = await kms.send(new DecryptCommand({
    CiphertextBlob: edk.encryptedDataKey, EncryptionContext: header.encryptionContext
  }))
  assert.equal(opened.KeyId, key.Arn)
  assert.equal(opened.Plaintext.length, 32)
})

test('A keyring for another key, or a changed header or body, cannot decrypt', async () => {
  // The keyring only offers KMS the data keys wrapped under its own ARN: there are none.
  const asked = []
  await assert.rejects(decrypt(kmsKeyring(other.Arn, asked), message),
    { message: 'unencryptedDataKey has not been set' })
  assert.deepEqual(asked, [])

  // One changed byte in the header's encryption context: KMS refuses the data key.
  const changed = Buffer.from(message)
  changed[changed.indexOf(Buffer.from(CONTEXT.purpose))] ^= 0x01
  await assert.rejects(decrypt(kmsKeyring(key.Arn), changed),
    /Unable to decrypt data key[^]*InvalidCiphertextException: UnknownError/)
  // One changed byte in the body: KMS opens the data key, but the frame does not authenticate.
  const corrupted = Buffer.from(message)
  corrupted[corrupted.length - 600] ^= 0x01
  await assert.rejects(decrypt(kmsKeyring(key.Arn), corrupted),
    { message: 'Unsupported state or unable to authenticate data' })
})

test('A message whose key is disabled does not decrypt', async () => {
  const doomed = (await kms.send(new CreateKeyCommand({}))).KeyMetadata
  const { result } = await encrypt(kmsKeyring(doomed.Arn), Buffer.from('short-lived'))
  assert.deepEqual((await decrypt(kmsKeyring(doomed.Arn), result)).plaintext, Buffer.from('short-lived'))
  await kms.send(new DisableKeyCommand({ KeyId: doomed.KeyId }))
  const error = await rejection(decrypt(kmsKeyring(doomed.Arn), result))
  assert.ok(error.message.includes(`DisabledException: ${doomed.Arn} is disabled.`), error.message)
})
