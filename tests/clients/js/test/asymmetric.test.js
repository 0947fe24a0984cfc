// Asymmetric keys through the AWS SDK for JavaScript v3, checked with node's own crypto through
// the public key: RSA Encrypt/Decrypt (RSAES_OAEP_SHA_256), ECDSA Sign/Verify on P-256, and
// GetPublicKey's DER SubjectPublicKeyInfo.
import assert from 'node:assert/strict'
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes, verify } from 'node:crypto'
import { before, test } from 'node:test'
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand
} from '@aws-sdk/client-kms'
import { kmsClient, refused } from '../lib/strongroom.js'

const kms = kmsClient()
const OAEP = 'RSAES_OAEP_SHA_256'
let rsa, ecc

before(async () => {
  [rsa, ecc] = await Promise.all([
    kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })),
    kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
  ]).then((replies) => replies.map((reply) => reply.KeyMetadata))
})

async function publicKeyOf (keyId) {
  const reply = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }))
  return { reply, key: createPublicKey({ key: Buffer.from(reply.PublicKey), format: 'der', type: 'spki' }) }
}

test('RSA_2048 Encrypt and Decrypt with RSAES_OAEP_SHA_256', async () => {
  const plaintext = randomBytes(190) // the most OAEP with SHA-256 takes under a 2048-bit key
  const encrypted = await kms.send(new EncryptCommand({
    KeyId: rsa.KeyId, Plaintext: plaintext, EncryptionAlgorithm: OAEP
  }))
  assert.equal(encrypted.KeyId, rsa.Arn)
  assert.equal(encrypted.EncryptionAlgorithm, OAEP)
  assert.equal(encrypted.CiphertextBlob.length, 256) // plain RSA: one modulus long

  const decrypted = await kms.send(new DecryptCommand({
    KeyId: rsa.Arn, CiphertextBlob: encrypted.CiphertextBlob, EncryptionAlgorithm: OAEP
  }))
  assert.deepEqual(Buffer.from(decrypted.Plaintext), plaintext)
  assert.equal(decrypted.KeyId, rsa.Arn)

  // Encrypted offline by node with the public key alone, decrypted by KMS.
  const { key } = await publicKeyOf(rsa.KeyId)
  const offline = publicEncrypt(
    { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('offline'))
  const opened = await kms.send(new DecryptCommand({
    KeyId: rsa.KeyId, CiphertextBlob: offline, EncryptionAlgorithm: OAEP
  }))
  assert.equal(Buffer.from(opened.Plaintext).toString(), 'offline')

  await refused(kms.send(new EncryptCommand({
    KeyId: rsa.KeyId, Plaintext: randomBytes(191), EncryptionAlgorithm: OAEP
  })), 'ValidationException', 400,
  'Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes.')
})

test('ECC_NIST_P256 Sign and Verify with ECDSA_SHA_256', async () => {
  const message = Buffer.from('pay 100 to alice')
  const signed = await kms.send(new SignCommand({
    KeyId: ecc.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256'
  }))
  assert.equal(signed.KeyId, ecc.Arn)
  assert.equal(signed.SigningAlgorithm, 'ECDSA_SHA_256')
  const verified = await kms.send(new VerifyCommand({
    KeyId: ecc.KeyId, Message: message, Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256'
  }))
  assert.equal(verified.SignatureValid, true)
  assert.equal(verified.KeyId, ecc.Arn)

  // The same message as a SHA-256 digest: a DIGEST signature verifies against the RAW message.
  const digest = createHash('sha256').update(message).digest()
  const overDigest = await kms.send(new SignCommand({
    KeyId: ecc.KeyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256'
  }))
  const digestVerified = await kms.send(new VerifyCommand({
    KeyId: ecc.KeyId, Message: message, Signature: overDigest.Signature, SigningAlgorithm: 'ECDSA_SHA_256'
  }))
  assert.equal(digestVerified.SignatureValid, true)

  // A signature over another message is refused, never answered with SignatureValid false.
  const error = await refused(kms.send(new VerifyCommand({
    KeyId: ecc.KeyId,
    Message: Buffer.from('pay 900 to alice'),
    Signature: signed.Signature,
    SigningAlgorithm: 'ECDSA_SHA_256'
  })), 'KMSInvalidSignatureException', 400, 'UnknownError')
  assert.equal(error.SignatureValid, undefined)
  await refused(kms.send(new SignCommand({
    KeyId: ecc.KeyId, Message: digest.subarray(1), MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256'
  })), 'ValidationException', 400, 'Digest is invalid length for algorithm ECDSA_SHA_256.')
})

test('GetPublicKey gives a DER key that node crypto verifies the KMS signature with', async () => {
  const { reply, key } = await publicKeyOf(ecc.Arn)
  assert.equal(reply.KeyId, ecc.Arn)
  assert.equal(reply.KeySpec, 'ECC_NIST_P256')
  assert.equal(reply.KeyUsage, 'SIGN_VERIFY')
  assert.deepEqual(reply.SigningAlgorithms, ['ECDSA_SHA_256'])
  assert.equal(key.asymmetricKeyType, 'ec')
  assert.equal(key.asymmetricKeyDetails.namedCurve, 'prime256v1')

  const message = randomBytes(300)
  const { Signature } = await kms.send(new SignCommand({
    KeyId: ecc.KeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_256'
  }))
  assert.equal(verify('sha256', message, { key, dsaEncoding: 'der' }, Signature), true)
  assert.equal(verify('sha256', Buffer.concat([message, Buffer.from('!')]), key, Signature), false)

  const rsaPublic = await publicKeyOf(rsa.KeyId)
  assert.equal(rsaPublic.reply.KeySpec, 'RSA_2048')
  assert.deepEqual(rsaPublic.reply.EncryptionAlgorithms.slice().sort(), ['RSAES_OAEP_SHA_1', OAEP])
  assert.equal(rsaPublic.key.asymmetricKeyType, 'rsa')
  assert.equal(rsaPublic.key.asymmetricKeyDetails.modulusLength, 2048)
})
