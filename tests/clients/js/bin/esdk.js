#!/usr/bin/env node
// The JavaScript half of the cross-language Encryption SDK tests
// (tests/integration/test_js_clients.py): encrypts or decrypts one message file with
// KmsKeyringNode on the given key ARN and prints the message header as JSON on stdout.
//
//   node bin/esdk.js encrypt KEY_ARN CONTEXT_JSON PLAINTEXT_FILE MESSAGE_FILE
//   node bin/esdk.js decrypt KEY_ARN MESSAGE_FILE PLAINTEXT_FILE
import { readFile, writeFile } from 'node:fs/promises'
import { decrypt, encrypt, headerSummary, kmsKeyring } from '../lib/esdk.js'

const [command, keyArn, ...args] = process.argv.slice(2)

if (command === 'encrypt' && args.length === 3) {
  const [context, source, target] = args
  const { result, messageHeader } = await encrypt(kmsKeyring(keyArn), await readFile(source), {
    encryptionContext: JSON.parse(context)
  })
  await writeFile(target, result)
  console.log(JSON.stringify(headerSummary(messageHeader)))
} else if (command === 'decrypt' && args.length === 2) {
  const [source, target] = args
  const { plaintext, messageHeader } = await decrypt(kmsKeyring(keyArn), await readFile(source))
  await writeFile(target, plaintext)
  console.log(JSON.stringify(headerSummary(messageHeader)))
} else {
  console.error('usage: esdk.js encrypt KEY_ARN CONTEXT_JSON IN OUT | decrypt KEY_ARN IN OUT')
  process.exit(2)
}
