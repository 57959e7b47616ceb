// Idempotency-Key on every creating POST (issue 13, defect 3): a retry gets the first answer, not a
// second row; another body under the same key is 422; a retry while the first runs is 409.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createDatabase } from '../../src/db/database'
import { createIdempotencyRepository } from '../../src/modules/idempotency/repository'
import { type Account, createTestContext, DEFAULT_PASSWORD, uniqueEmail } from '../support/context'

const ctx = createTestContext()
const PREFIX = `idem-${crypto.randomUUID().slice(0, 8)}-`
let owner: Account
let other: Account
let su: Account
beforeAll(async () => {
  ;[owner, other, su] = await Promise.all([ctx.account(), ctx.account(), ctx.account({ superuser: true })])
})
afterAll(async () => {
  await ctx.sql`delete from idempotency_keys where key like ${`${PREFIX}%`}`
  await ctx.cleanup()
})

const newKey = () => `${PREFIX}${crypto.randomUUID()}`
const itemsOf = async (userId: number) =>
  (await ctx.sql`select id::int, title from items where owner_id = ${userId} order by id`).map((r) => ({ ...r }))
const createItem = (key: string | undefined, json: unknown, token = owner.token, path = '/items/') =>
  ctx.request('POST', path, { json, token, headers: key === undefined ? {} : { 'idempotency-key': key } })

describe('Idempotency-Key', () => {
  test('a retry with the same key and body answers the first response again, and makes no second row', async () => {
    const key = newKey()
    const before = (await itemsOf(owner.id)).length
    const first = await createItem(key, { title: 'once', description: 'only once' })
    expect(first.status).toBe(201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const again = await createItem(key, { description: 'only once', title: 'once' }) // same body, keys reordered
    expect(again.status).toBe(201)
    expect(again.headers.get('content-type')).toStartWith('application/json')
    expect(again.body).toEqual(first.body)
    expect(again.text).toBe(first.text)
    expect(again.headers.get('location')).toBe(`/items/${first.body.id}`)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    // The quoted form of the IETF draft is the same key.
    const quoted = await createItem(`"${key}"`, { title: 'once', description: 'only once' })
    expect(quoted.text).toBe(first.text)
    expect((await itemsOf(owner.id)).length).toBe(before + 1)
  })

  test('without a key, every request creates', async () => {
    const before = (await itemsOf(owner.id)).length
    expect((await createItem(undefined, { title: 'twice' })).status).toBe(201)
    expect((await createItem(undefined, { title: 'twice' })).status).toBe(201)
    expect((await itemsOf(owner.id)).length).toBe(before + 2)
  })

  test('the same key with another body, or on another path, is 422 idempotency_key_reused; nothing is written', async () => {
    const key = newKey()
    expect((await createItem(key, { title: 'first' })).status).toBe(201)
    const before = await itemsOf(owner.id)
    const other = await createItem(key, { title: 'second' })
    expect(other.status).toBe(422)
    expect(other.body).toEqual({
      detail: [
        {
          loc: ['header', 'idempotency-key'],
          msg: 'This Idempotency-Key was used for a different request',
          type: 'value_error',
        },
      ],
      code: 'idempotency_key_reused',
    })
    const elsewhere = await createItem(key, { title: 'first' }, owner.token, `/users/${owner.id}/items/`)
    expect(elsewhere.status).toBe(422)
    expect(await itemsOf(owner.id)).toEqual(before)
  })

  test('keys are per caller: another user’s identical key and body creates its own row', async () => {
    const key = newKey()
    const mine = await createItem(key, { title: 'shared key' })
    const theirs = await createItem(key, { title: 'shared key' }, other.token)
    expect([mine.status, theirs.status]).toEqual([201, 201])
    expect(theirs.body.id).not.toBe(mine.body.id)
    expect(theirs.body.owner_id).toBe(other.id)
  })

  test('a retry while the first request is still running is 409; once it has finished, the retry gets its answer', async () => {
    const key = newKey()
    // Holding the owner's row keeps the first request waiting inside its transaction, key taken.
    const holder = ctx.sql.reserve()
    const held = await holder
    await held`begin`
    await held`select id from users where id = ${owner.id} for update`
    const first = createItem(key, { title: 'slow' })
    await Bun.sleep(200)
    const retry = await createItem(key, { title: 'slow' })
    expect(retry.status).toBe(409)
    expect(retry.body.code).toBe('idempotency_key_in_progress')
    await held`commit`
    held.release()
    const answered = await first
    expect(answered.status).toBe(201)
    const later = await createItem(key, { title: 'slow' })
    expect(later.status).toBe(201)
    expect(later.body).toEqual(answered.body)
    expect((await itemsOf(owner.id)).filter((item) => item.title === 'slow')).toHaveLength(1)
  })

  test('ten at once with one key: one row, every answer 201 with it or 409', async () => {
    const key = newKey()
    const answers = await Promise.all(Array.from({ length: 10 }, () => createItem(key, { title: 'burst' })))
    const rows = (await itemsOf(owner.id)).filter((item) => item.title === 'burst')
    expect(rows).toHaveLength(1)
    for (const answer of answers) {
      expect([201, 409]).toContain(answer.status)
      if (answer.status === 201) expect(answer.body.id).toBe(rows[0]!.id)
    }
  })

  test('a write that fails stores no key: its retry runs again', async () => {
    const key = newKey()
    const email = uniqueEmail()
    await ctx.createUser({ email })
    const taken = await ctx.request('POST', '/users/signup', {
      json: { email, password: DEFAULT_PASSWORD },
      headers: { 'idempotency-key': key },
    })
    expect(taken.status).toBe(409)
    expect(taken.body.code).toBe('email_taken')
    expect(await ctx.sql`select 1 from idempotency_keys where key = ${key}`).toHaveLength(0)
  })

  test('sign-up and user creation take keys; the stored answer holds no password, and no body but the answer', async () => {
    const key = newKey()
    const email = uniqueEmail()
    const password = `secret-${crypto.randomUUID()}`
    const signup = () =>
      ctx.request('POST', '/users/signup', { json: { email, password }, headers: { 'idempotency-key': key } })
    const first = await signup()
    const again = await signup()
    expect([first.status, again.status]).toEqual([201, 201])
    expect(again.body).toEqual(first.body)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await ctx.sql`select id from users where email = ${email}`).toHaveLength(1)
    const [stored] = await ctx.sql`select fingerprint, body::text as body from idempotency_keys where key = ${key}`
    expect(stored!.fingerprint).toHaveLength(32)
    expect(stored!.body).not.toContain(password)
    expect(stored!.body).not.toContain('hashed_password')
    expect(Buffer.from(stored!.fingerprint).toString('latin1')).not.toContain(password)

    const created = () =>
      ctx.request('POST', '/users/', {
        json: { email: uniqueEmail(), password: DEFAULT_PASSWORD },
        token: su.token,
        headers: { 'idempotency-key': key },
      })
    const byAdmin = await created()
    expect(byAdmin.status).toBe(201) // the superuser's key is its own, not the sign-up's
    expect((await created()).status).toBe(422) // another email under the same key
  })

  test('a key lasts 24 hours: after that, it may be used for another request', async () => {
    const key = newKey()
    expect((await createItem(key, { title: 'old' })).status).toBe(201)
    await ctx.sql`update idempotency_keys set created_at = now() - interval '24 hours 1 second' where key = ${key}`
    const reused = await createItem(key, { title: 'new' })
    expect(reused.status).toBe(201)
    expect(reused.headers.get('idempotent-replayed')).toBeNull()
    expect((await createItem(key, { title: 'new' })).body).toEqual(reused.body)
  })

  test('expired keys are swept in batches', async () => {
    const keys = createIdempotencyRepository(createDatabase(ctx.sql, ctx.config.database))
    const old = [newKey(), newKey(), newKey()]
    const fresh = newKey()
    for (const key of old)
      await ctx.sql`insert into idempotency_keys (caller_id, key, fingerprint, body, created_at)
                    values (${owner.id}, ${key}, '\\x00', '{}', now() - interval '25 hours')`
    await ctx.sql`insert into idempotency_keys (caller_id, key, fingerprint, body) values (${owner.id}, ${fresh}, '\\x00', '{}')`
    expect(await keys.pruneExpired(2)).toBe(2)
    while ((await keys.pruneExpired(100)) > 0);
    const left = await ctx.sql`select key from idempotency_keys where key = any(${[...old, fresh]})`
    expect(left.map((row) => row.key)).toEqual([fresh])
  })

  test.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['not ASCII', 'clé'],
    ['with a space', 'a b'],
    ['unbalanced quote', '"abc'],
  ])('a malformed key (%s) is 422 at the header, before anything is written', async (_, key) => {
    const before = (await itemsOf(owner.id)).length
    const res = await createItem(key, { title: 'never' })
    expect(res.status).toBe(422)
    expect(res.body.detail.map((d: { loc: string[] }) => d.loc)).toEqual([['header', 'idempotency-key']])
    expect((await itemsOf(owner.id)).length).toBe(before)
  })

  test('a replay is for the caller who may still make the write: 401 once the session ended, 403 for another user', async () => {
    const account = await ctx.account()
    const key = newKey()
    expect((await createItem(key, { title: 'mine' }, account.token)).status).toBe(201)
    // Another user's items path with a key the caller used: 403, as without a key, not 422.
    const foreign = await createItem(key, { title: 'mine' }, account.token, `/users/${other.id}/items/`)
    expect(foreign.status).toBe(403)
    expect((await ctx.request('POST', '/logout', { token: account.token })).status).toBe(200)
    const replay = await createItem(key, { title: 'mine' }, account.token)
    expect(replay.status).toBe(401)
    expect(replay.body.code).toBe('invalid_token')
  })

  test('POST /users/ and POST /users/{user_id}/items/ replay too', async () => {
    const key = newKey()
    const json = { email: uniqueEmail(), password: DEFAULT_PASSWORD, full_name: 'Made once' }
    const made = await ctx.request('POST', '/users/', { json, token: su.token, headers: { 'idempotency-key': key } })
    const again = await ctx.request('POST', '/users/', { json, token: su.token, headers: { 'idempotency-key': key } })
    expect([made.status, again.status]).toEqual([201, 201])
    expect(again.body).toEqual(made.body)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await ctx.sql`select id from users where email = ${json.email}`).toHaveLength(1)

    const path = `/users/${owner.id}/items/`
    const itemKey = newKey()
    const first = await createItem(itemKey, { title: 'for the owner' }, su.token, path)
    const second = await createItem(itemKey, { title: 'for the owner' }, su.token, path)
    expect([first.status, second.status]).toEqual([201, 201])
    expect(second.body).toEqual(first.body)
    expect((await itemsOf(owner.id)).filter((item) => item.title === 'for the owner')).toHaveLength(1)
  })

  test('fingerprints are keyed by SECRET_KEY: a rotated-in key still matches them, another key never does', async () => {
    const old = 'old-idempotency-key-0123456789abcdef-0123'
    const fresh = 'new-idempotency-key-0123456789abcdef-0123'
    const before = createTestContext({ env: { SECRET_KEY: old } })
    const rotated = createTestContext({ env: { SECRET_KEY: `${fresh},${old}` } })
    const stranger = createTestContext({ env: { SECRET_KEY: fresh } })
    try {
      const account = await before.account()
      const key = newKey()
      const send = (c: typeof ctx, token: string) =>
        c.request('POST', '/items/', { json: { title: 'rotated' }, token, headers: { 'idempotency-key': key } })
      const first = await send(before, account.token)
      expect(first.status).toBe(201)
      // The old key still verifies the token and still matches the fingerprint.
      const replay = await send(rotated, account.token)
      expect(replay.status).toBe(201)
      expect(replay.body).toEqual(first.body)
      // Under a key that never made it, the same body does not match: the fingerprint is no plain hash.
      const strangerToken = (await stranger.login(account.email, account.password)).body.access_token
      expect((await send(stranger, strangerToken)).status).toBe(422)
    } finally {
      await Promise.all([rotated.cleanup(), stranger.cleanup()])
      await before.cleanup()
    }
  })

  test('a stored answer that no longer fits the answer schema (an update changed it) is 409 idempotency_key_stale, never a 500', async () => {
    const key = newKey()
    expect((await createItem(key, { title: 'before the update' })).status).toBe(201)
    await ctx.sql`update idempotency_keys set body = (body::jsonb - 'owner_id')::json where key = ${key}`
    const res = await createItem(key, { title: 'before the update' })
    expect(res.status).toBe(409)
    expect(res.body.code).toBe('idempotency_key_stale')
    // A fingerprint of another length (another algorithm, say) is simply not a match.
    await ctx.sql`update idempotency_keys set fingerprint = '\\x00' where key = ${key}`
    expect((await createItem(key, { title: 'before the update' })).status).toBe(422)
  })

  test('the document declares the header on every creating operation, and the 201 says when it replays', async () => {
    const doc = (await ctx.request('GET', '/openapi.json')).body
    for (const [path, method] of [
      ['/users/signup', 'post'],
      ['/users/', 'post'],
      ['/items/', 'post'],
      ['/users/{user_id}/items/', 'post'],
    ] as const) {
      const op = doc.paths[path][method]
      const header = op.parameters.find((p: { name: string }) => p.name === 'idempotency-key')
      expect({ path, in: header?.in, required: header?.required }).toEqual({ path, in: 'header', required: false })
      expect(op.responses['201'].headers['Idempotent-Replayed']).toBeDefined()
    }
  })
})
