// A login and a change to its account at the same moment: whichever comes first, no session started
// with the old password, or for a deactivated or deleted account, survives the change.
import { afterAll, expect, test } from 'bun:test'
import postgres from 'postgres'
import { createPasswordHasher } from '../../src/security/passwords'
import { createTestContext, databaseUrl, uniqueAddress } from '../support/context'
import { serviceQueriesWaitingForLock } from '../support/locks'
import { waitFor } from '../support/wait'

// The real hasher, with a verification that can be held after it has answered, on cue: the login
// has then checked the password but not yet started its session.
let hold: { reached: boolean; gate: Promise<void> } | undefined
const ctx = createTestContext({
  // A held verification keeps its hashing permit: the change's own check needs another.
  env: { PASSWORD_HASH_CONCURRENCY: '4' },
  passwords: (config) =>
    createPasswordHasher(config.passwordHash, {
      hash: (password, options) => Bun.password.hash(password, options),
      verify: async (password, hash) => {
        const matches = await Bun.password.verify(password, hash)
        const held = hold
        if (held && !held.reached) {
          held.reached = true
          await held.gate
        }
        return matches
      },
    }),
})
afterAll(() => ctx.cleanup())

/** Holds the next password verification once it has answered; resolve the result to let it go. */
function holdNextVerification() {
  const release = Promise.withResolvers<void>()
  const held = { reached: false, gate: release.promise }
  hold = held
  return {
    reached: () => held.reached,
    release: () => {
      hold = undefined
      release.resolve()
    },
  }
}

const me = (token: string) => ctx.request('GET', '/users/me', { token })

test('a login that checked the old password while it changed gets no session', async () => {
  const owner = await ctx.account()
  const held = holdNextVerification()
  const login = ctx.login(owner.email, owner.password, { peer: uniqueAddress() })
  await waitFor('the login to have checked the old password', held.reached)
  const changed = await ctx.request('PATCH', '/users/me/password', {
    token: owner.token,
    json: { current_password: owner.password, new_password: 'a brand new password' },
  })
  expect(changed.status).toBe(200)
  held.release()
  const res = await login
  expect(res.status).toBe(400)
  expect(res.body.code).toBe('incorrect_credentials')
  expect(await ctx.sql`select 1 from sessions where user_id = ${owner.id} and revoked_at is null`).toHaveLength(1)
})

test('a login that checked the password while the account was deactivated or deleted gets 400, never a session', async () => {
  const su = await ctx.account({ superuser: true })
  for (const change of ['deactivate', 'delete'] as const) {
    const user = await ctx.createUser()
    const held = holdNextVerification()
    const login = ctx.login(user.email, user.password, { peer: uniqueAddress() })
    await waitFor('the login to have checked the password', held.reached)
    const res =
      change === 'deactivate'
        ? await ctx.request('PATCH', `/users/${user.id}`, { token: su.token, json: { is_active: false } })
        : await ctx.request('DELETE', `/users/${user.id}`, { token: su.token })
    expect(res.status).toBe(200)
    held.release()
    expect({ change, status: (await login).status }).toEqual({ change, status: 400 })
    expect(await ctx.sql`select 1 from sessions where user_id = ${user.id}`).toHaveLength(0)
  }
})

test('a session a login committed while the password change waited for the account is ended by the change', async () => {
  // A third party holds the user's row (FOR SHARE), so the change's update waits for it with its
  // snapshot already taken; a login (also FOR SHARE) slips in meanwhile and commits its session.
  const admin = postgres(databaseUrl(), { max: 2, onnotice: () => {} })
  try {
    const owner = await ctx.account()
    const locked = Promise.withResolvers<void>()
    const released = Promise.withResolvers<void>()
    const holding = admin.begin(async (tx) => {
      await tx`select 1 from users where id = ${owner.id} for share`
      locked.resolve()
      await released.promise
    })
    await locked.promise
    const changing = ctx.request('PATCH', '/users/me/password', {
      token: owner.token,
      json: { current_password: owner.password, new_password: 'a brand new password' },
    })
    await waitFor('the change to wait for the account', async () => (await serviceQueriesWaitingForLock(admin)) === 1)
    const login = await ctx.login(owner.email, owner.password, { peer: uniqueAddress() })
    expect(login.status).toBe(200)
    released.resolve()
    await holding
    expect((await changing).status).toBe(200)
    expect((await me(login.body.access_token)).status).toBe(401)
    const refreshed = await ctx.request('POST', '/login/refresh', { json: { refresh_token: login.body.refresh_token } })
    expect(refreshed.status).toBe(401)
    expect((await me(owner.token)).status).toBe(200)
  } finally {
    await admin.end()
  }
})
