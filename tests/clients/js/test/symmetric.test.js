// Symmetric keys through the AWS SDK for JavaScript v3: Encrypt and Decrypt with an encryption
// context, ReEncrypt, GenerateDataKey and GenerateDataKeyWithoutPlaintext.
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { before, test } from 'node:test'
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  ReEncryptCommand
} from '@aws-sdk/client-kms'
import { kmsClient, refused, unique } from '../lib/strongroom.js'

const kms = kmsClient()
const CONTEXT = { purpose: 'js-sdk-test', tenant: 'acme' }
const REORDERED = { tenant: 'acme', purpose: 'js-sdk-test' }
// The SDK's message for an error reply without one: AWS (and Strongroom) send
// InvalidCiphertextException with no message at all.
const NO_MESSAGE = 'UnknownError'
let key, other

before(async () => {
  key = (await kms.send(new CreateKeyCommand({ Description: 'js symmetric' }))).KeyMetadata
  other = (await kms.send(new CreateKeyCommand({ Description: 'js other' }))).KeyMetadata
})

test('Encrypt and Decrypt with an encryption context', async () => {
  const plaintext = Buffer.from('4111 1111 1111 1111, from the JavaScript SDK')
  const encrypted = await kms.send(new EncryptCommand({
    KeyId: key.KeyId, Plaintext: plaintext, EncryptionContext: CONTEXT
  }))
  assert.equal(encrypted.KeyId, key.Arn)
  assert.equal(encrypted.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT')
  assert.ok(encrypted.CiphertextBlob instanceof Uint8Array)
  assert.equal(Buffer.from(encrypted.CiphertextBlob).indexOf(plaintext.subarray(0, 8)), -1)

  // No KeyId needed: the blob names its key; the context's order does not matter.
  const decrypted = await kms.send(new DecryptCommand({
    CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: REORDERED
  }))
  assert.deepEqual(Buffer.from(decrypted.Plaintext), plaintext)
  assert.equal(decrypted.KeyId, key.Arn)
  assert.equal(decrypted.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT')
  assert.equal(decrypted.KeyMaterialId, key.CurrentKeyMaterialId)

  // The context is bound into the ciphertext: a missing or changed one is refused.
  for (const EncryptionContext of [undefined, { ...CONTEXT, tenant: 'evil' }]) {
    await refused(kms.send(new DecryptCommand({
      CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext
    })), 'InvalidCiphertextException', 400, NO_MESSAGE)
  }
})

test('Encrypt by alias name and alias ARN answers with the key ARN', async () => {
  const alias = `alias/${unique('js-symmetric')}`
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.KeyId }))
  const aliasArn = key.Arn.replace(/:key\/.*$/, `:${alias}`)
  for (const KeyId of [alias, aliasArn]) {
    const encrypted = await kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') }))
    assert.equal(encrypted.KeyId, key.Arn)
    const decrypted = await kms.send(new DecryptCommand({
      CiphertextBlob: encrypted.CiphertextBlob, KeyId
    }))
    assert.deepEqual(Buffer.from(decrypted.Plaintext), Buffer.from('x'))
  }
})

test('ReEncrypt moves a ciphertext to another key and context', async () => {
  const plaintext = randomBytes(100)
  const source = await kms.send(new EncryptCommand({
    KeyId: key.Arn, Plaintext: plaintext, EncryptionContext: CONTEXT
  }))
  const moved = await kms.send(new ReEncryptCommand({
    CiphertextBlob: source.CiphertextBlob,
    SourceEncryptionContext: CONTEXT,
    DestinationKeyId: other.KeyId,
    DestinationEncryptionContext: { stage: 'moved' }
  }))
  assert.equal(moved.SourceKeyId, key.Arn)
  assert.equal(moved.KeyId, other.Arn)
  assert.equal(moved.SourceEncryptionAlgorithm, 'SYMMETRIC_DEFAULT')
  assert.equal(moved.DestinationEncryptionAlgorithm, 'SYMMETRIC_DEFAULT')
  assert.notDeepEqual(Buffer.from(moved.CiphertextBlob), Buffer.from(source.CiphertextBlob))

  const decrypted = await kms.send(new DecryptCommand({
    CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { stage: 'moved' }
  }))
  assert.equal(decrypted.KeyId, other.Arn)
  assert.deepEqual(Buffer.from(decrypted.Plaintext), plaintext)
  // Bound to the new context, not the old one; and the source context is checked too.
  await refused(kms.send(new DecryptCommand({
    CiphertextBlob: moved.CiphertextBlob, EncryptionContext: CONTEXT
  })), 'InvalidCiphertextException', 400, NO_MESSAGE)
  await refused(kms.send(new ReEncryptCommand({
    CiphertextBlob: source.CiphertextBlob, DestinationKeyId: other.KeyId
  })), 'InvalidCiphertextException', 400, NO_MESSAGE)
})

test('GenerateDataKey gives a data key that its wrapped copy decrypts to', async () => {
  const dataKey = await kms.send(new GenerateDataKeyCommand({
    KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: CONTEXT
  }))
  assert.equal(dataKey.KeyId, key.Arn)
  assert.equal(dataKey.Plaintext.length, 32)
  assert.equal(dataKey.KeyMaterialId, key.CurrentKeyMaterialId)

  // Envelope encryption as an application does it: data under the data key (node's AES-GCM),
  // the data key unwrapped by KMS later.
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', dataKey.Plaintext, iv)
  const sealed = Buffer.concat([cipher.update('row 42'), cipher.final()])
  const tag = cipher.getAuthTag()
  const unwrapped = await kms.send(new DecryptCommand({
    CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: CONTEXT
  }))
  assert.deepEqual(Buffer.from(unwrapped.Plaintext), Buffer.from(dataKey.Plaintext))
  const decipher = createDecipheriv('aes-256-gcm', unwrapped.Plaintext, iv).setAuthTag(tag)
  assert.equal(Buffer.concat([decipher.update(sealed), decipher.final()]).toString(), 'row 42')

  for (const [params, length] of [[{ KeySpec: 'AES_128' }, 16], [{ NumberOfBytes: 64 }, 64]]) {
    const sized = await kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, ...params }))
    assert.equal(sized.Plaintext.length, length)
  }
})

test('GenerateDataKeyWithoutPlaintext returns only the wrapped key', async () => {
  const params = { KeyId: key.Arn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }
  const first = await kms.send(new GenerateDataKeyWithoutPlaintextCommand(params))
  const second = await kms.send(new GenerateDataKeyWithoutPlaintextCommand(params))
  assert.equal(first.KeyId, key.Arn)
  assert.equal(first.Plaintext, undefined)
  assert.ok(!('Plaintext' in first))

  const keys = []
  for (const wrapped of [first, second]) {
    const unwrapped = await kms.send(new DecryptCommand({
      CiphertextBlob: wrapped.CiphertextBlob, EncryptionContext: CONTEXT
    }))
    assert.equal(unwrapped.Plaintext.length, 32)
    keys.push(Buffer.from(unwrapped.Plaintext).toString('hex'))
  }
  assert.notEqual(keys[0], keys[1])
})
