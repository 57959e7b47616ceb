// Password hashing on threads of its own, at a lower priority than the event loop.
import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { createThreadedArgon2id } from '../../src/security/argon2id-threads'

const options = { algorithm: 'argon2id', memoryCost: 1024, timeCost: 1 } as const
const threads = createThreadedArgon2id({ threads: 2, nice: 7 })
afterAll(() => threads.close())

/** The nice value of each thread of this process, from /proc (field 19 of stat, after the name). */
const niceValues = () =>
  readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
  })

describe('threaded argon2id', () => {
  test("its hashes are Bun.password's, both ways", async () => {
    const made = await threads.hash('correct horse', options)
    expect(made).toStartWith('$argon2id$v=19$m=1024,t=1,p=1$')
    expect(await Bun.password.verify('correct horse', made, 'argon2id')).toBe(true)
    const stored = await Bun.password.hash('battery staple', options)
    expect(await threads.verify('battery staple', stored)).toBe(true)
    expect(await threads.verify('battery stapler', stored)).toBe(false)
  })

  test('a malformed hash is refused with an error, as Bun.password refuses it', async () => {
    await expect(threads.verify('x', 'not a hash')).rejects.toThrow()
    // The thread that refused it goes on working.
    expect(await threads.verify('x', await threads.hash('x', options))).toBe(true)
  })

  test('the hashing threads run at the nice value given, and the event loop does not', async () => {
    await Promise.all([threads.hash('one', options), threads.hash('two', options), threads.hash('three', options)])
    const values = niceValues()
    expect(values.filter((nice) => nice === 7)).toHaveLength(2)
    expect(values[0]).toBe(0)
  })

  test('a thread starts with the first job and ends after a while without one', async () => {
    const lazy = createThreadedArgon2id({ threads: 1, nice: 9, idleMs: 50 })
    try {
      expect(niceValues().filter((nice) => nice === 9)).toHaveLength(0)
      await lazy.hash('a', options)
      expect(niceValues().filter((nice) => nice === 9)).toHaveLength(1)
      const ended = performance.now() + 5000
      while (niceValues().includes(9) && performance.now() < ended) await Bun.sleep(20)
      expect(niceValues().filter((nice) => nice === 9)).toHaveLength(0)
      expect(await lazy.verify('a', await lazy.hash('a', options))).toBe(true)
    } finally {
      lazy.close()
    }
  })

  test('more jobs than threads wait their turn and all finish, each with its own answer', async () => {
    const passwords = Array.from({ length: 9 }, (_, i) => `password ${i}`)
    const hashes = await Promise.all(passwords.map((password) => threads.hash(password, options)))
    const checks = await Promise.all(
      hashes.flatMap((hash, i) => [threads.verify(passwords[i]!, hash), threads.verify(`${passwords[i]}!`, hash)]),
    )
    expect(checks).toEqual(passwords.flatMap(() => [true, false]))
  })

  test('closed, it refuses what is waiting and what comes after', async () => {
    const other = createThreadedArgon2id({ threads: 1, nice: 7 })
    const jobs = [other.hash('a', options), other.hash('b', options)]
    other.close()
    for (const job of jobs) await expect(job).rejects.toThrow('password hashing has stopped')
    await expect(other.verify('a', 'x')).rejects.toThrow('password hashing has stopped')
  })
})
