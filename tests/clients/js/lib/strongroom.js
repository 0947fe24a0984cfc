// The Strongroom server these tests talk to, from the environment the pytest driver
// (tests/integration/test_js_clients.py) sets: STRONGROOM_ENDPOINT, AWS_REGION,
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Every client is given them explicitly, so no
// profile, config file or instance metadata is ever consulted.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { KMSClient } from '@aws-sdk/client-kms'

function required (name) {
  const value = process.env[name]
  if (!value) {
    throw new Error(`${name} is not set: run these tests through ` +
      'tests/integration/test_js_clients.py, or set STRONGROOM_ENDPOINT, AWS_REGION, ' +
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY')
  }
  return value
}

export const endpoint = required('STRONGROOM_ENDPOINT')
export const region = required('AWS_REGION')
export const credentials = {
  accessKeyId: required('AWS_ACCESS_KEY_ID'),
  secretAccessKey: required('AWS_SECRET_ACCESS_KEY')
}

// What a KMSClient needs to reach Strongroom; one attempt, so a refusal is seen as it came.
export const clientConfig = { endpoint, region, credentials, maxAttempts: 1 }

export function kmsClient (overrides = {}) {
  return new KMSClient({ ...clientConfig, ...overrides })
}

// A name no other test (nor an earlier run against the same server) has used.
export function unique (prefix) {
  return `${prefix}-${randomUUID()}`
}

// Runs `promise` and returns the error it rejects with; fails if it resolves.
export async function rejection (promise) {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the request to be refused, and it succeeded')
}

// Checks an AWS error as a JavaScript SDK user sees it: the error class's name, the HTTP status
// of the reply, that it is the client's fault, and the message (a string, or a RegExp to match).
// Returns the error for further checks.
export function assertAwsError (error, name, status, message) {
  assert.equal(error.name, name, `${error.name}: ${error.message}`)
  assert.equal(error.$metadata?.httpStatusCode, status)
  assert.equal(error.$fault, status < 500 ? 'client' : 'server')
  assert.match(error.$metadata.requestId, /^[0-9a-f-]{36}$/)
  if (message instanceof RegExp) {
    assert.match(error.message, message)
  } else {
    assert.equal(error.message, message)
  }
  return error
}

// The error a refused request rejects with, checked as assertAwsError checks it.
export async function refused (promise, name, status, message) {
  return assertAwsError(await rejection(promise), name, status, message)
}
