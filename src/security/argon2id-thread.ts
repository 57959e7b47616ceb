// One password-hashing thread (see argon2id-threads.ts): it lowers its own scheduling priority,
// then hashes and verifies synchronously, one job at a time, on this thread only.
import { setPriority } from 'node:os'
import type { HashJob, HashOutcome } from './argon2id-threads'

declare const self: Worker

self.onmessage = (event: MessageEvent<HashJob | { nice: number }>) => {
  const job = event.data
  if ('nice' in job) {
    // On Linux the nice value belongs to the thread: this lowers this thread only, not the service.
    setPriority(0, job.nice)
    return
  }
  let outcome: HashOutcome
  try {
    outcome = {
      value:
        job.op === 'hash'
          ? Bun.password.hashSync(job.password, job.options)
          : Bun.password.verifySync(job.password, job.hash, 'argon2id'),
    }
  } catch (error) {
    outcome = { error: error instanceof Error ? error.message : String(error) }
  }
  self.postMessage(outcome)
}
