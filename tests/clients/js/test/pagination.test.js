// Pagination through the AWS SDK for JavaScript v3: ListAliases and ListKeys page by page with
// Limit and Marker, and the SDK's paginators (paginateListAliases, paginateListKeys).
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import {
  CreateAliasCommand,
  CreateKeyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  paginateListAliases,
  paginateListKeys
} from '@aws-sdk/client-kms'
import { kmsClient, refused, unique } from '../lib/strongroom.js'

const kms = kmsClient()
const ALIASES = 7
let key, aliasNames

before(async () => {
  key = (await kms.send(new CreateKeyCommand({ Description: 'js pagination' }))).KeyMetadata
  const prefix = unique('alias/js-page')
  aliasNames = Array.from({ length: ALIASES }, (_, i) => `${prefix}-${i}`)
  for (const AliasName of aliasNames) {
    await kms.send(new CreateAliasCommand({ AliasName, TargetKeyId: key.KeyId }))
  }
})

// Every page of `command` (a function of the Marker), followed by hand through NextMarker.
async function pagesByHand (command) {
  const pages = []
  let Marker
  do {
    const page = await kms.send(command(Marker))
    pages.push(page)
    Marker = page.NextMarker
    assert.equal(page.Truncated, Marker !== undefined)
  } while (Marker !== undefined)
  return pages
}

async function collect (paginator) {
  const pages = []
  for await (const page of paginator) pages.push(page)
  return pages
}

test('ListAliases with Limit and Marker goes through every page', async () => {
  const pages = await pagesByHand((Marker) => new ListAliasesCommand({ KeyId: key.KeyId, Limit: 2, Marker }))
  assert.deepEqual(pages.map((page) => page.Aliases.length), [2, 2, 2, 1])
  const listed = pages.flatMap((page) => page.Aliases)
  assert.deepEqual(listed.map((alias) => alias.AliasName).sort(), aliasNames.slice().sort())
  for (const alias of listed) {
    assert.equal(alias.TargetKeyId, key.KeyId)
    assert.equal(alias.AliasArn, key.Arn.replace(/:key\/.*$/, `:${alias.AliasName}`))
    assert.ok(alias.CreationDate instanceof Date)
    assert.ok(alias.LastUpdatedDate instanceof Date)
  }
})

test('paginateListAliases goes through every page', async () => {
  const pages = await collect(paginateListAliases({ client: kms, pageSize: 3 }, { KeyId: key.Arn }))
  assert.deepEqual(pages.map((page) => page.Aliases.length), [3, 3, 1])
  assert.deepEqual(pages.map((page) => page.Truncated), [true, true, false])
  const names = pages.flatMap((page) => page.Aliases.map((alias) => alias.AliasName))
  assert.deepEqual(names.sort(), aliasNames.slice().sort())
})

test('ListKeys pages by hand and by paginateListKeys agree', async () => {
  const made = await Promise.all([1, 2, 3].map(() => kms.send(new CreateKeyCommand({}))))
  const byHand = await pagesByHand((Marker) => new ListKeysCommand({ Limit: 2, Marker }))
  const byPaginator = await collect(paginateListKeys({ client: kms, pageSize: 2 }, {}))
  for (const pages of [byHand, byPaginator]) {
    assert.ok(pages.length >= 2)
    assert.ok(pages.every((page) => page.Keys.length <= 2))
    const ids = pages.flatMap((page) => page.Keys.map((entry) => entry.KeyId))
    assert.equal(new Set(ids).size, ids.length, 'a key listed twice')
    for (const { KeyMetadata } of [{ KeyMetadata: key }, ...made]) {
      assert.ok(ids.includes(KeyMetadata.KeyId), `${KeyMetadata.KeyId} not listed`)
    }
    const entry = pages.flatMap((page) => page.Keys).find((e) => e.KeyId === key.KeyId)
    assert.equal(entry.KeyArn, key.Arn)
  }
})

test('A Marker that ListKeys never gave is refused', async () => {
  // AWS's wording for this error is not on record (kms-spec.md 1.6): any message but an empty one.
  await refused(kms.send(new ListKeysCommand({ Marker: 'not-a-marker' })),
    'InvalidMarkerException', 400, /\S/)
  const { NextMarker } = await kms.send(new ListAliasesCommand({ KeyId: key.KeyId, Limit: 1 }))
  await refused(kms.send(new ListKeysCommand({ Marker: NextMarker })),
    'InvalidMarkerException', 400, /\S/)
})
