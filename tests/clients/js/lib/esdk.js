// The AWS Encryption SDK for JavaScript pointed at Strongroom: KmsKeyringNode with a client
// provider whose KMS clients have Strongroom's endpoint and the test credentials.
import {
  buildClient,
  CommitmentPolicy,
  getClient,
  KMS,
  KmsKeyringNode
} from '@aws-crypto/client-node'
import { clientConfig } from './strongroom.js'

// The default and strictest policy: key-committing suites only, both ways.
export const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)

// A keyring on one key ARN; `regions` records every region the keyring asked a client for.
export function kmsKeyring (keyArn, regions = []) {
  const supply = getClient(KMS, clientConfig)
  const clientProvider = (region) => {
    regions.push(region)
    return supply(region)
  }
  return new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider })
}

// The parts of a message header the tests compare, as plain JSON.
export function headerSummary (messageHeader) {
  return {
    version: messageHeader.version,
    suiteId: messageHeader.suiteId,
    encryptionContext: { ...messageHeader.encryptionContext },
    encryptedDataKeys: messageHeader.encryptedDataKeys.map((edk) => ({
      providerId: edk.providerId,
      providerInfo: edk.providerInfo
    }))
  }
}
