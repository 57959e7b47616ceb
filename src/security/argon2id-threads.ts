import type { Argon2id, Argon2idOptions } from './passwords'

// A thread runs one job at a time, so an outcome needs no id: it is the running job's.
export type HashJob =
  | { op: 'hash'; password: string; options: Argon2idOptions }
  | { op: 'verify'; password: string; hash: string }
export type HashOutcome = { value: string | boolean } | { error: string }

export interface ThreadedArgon2id extends Argon2id {
  /** Ends the threads; jobs still running or waiting are refused. */
  close(): void
}

interface Pending {
  job: HashJob
  settle: (outcome: HashOutcome) => void
}

interface Thread {
  worker: Worker
  running?: Pending
  idle?: ReturnType<typeof setTimeout>
}

const STOPPED = 'password hashing has stopped'

/**
 * argon2id on threads of their own, each at a lower scheduling priority (`nice`), so that a burst
 * of logins takes the cores only when requests that need no hashing leave them idle: password
 * hashing is the one CPU-bound task in the service, and on Bun's shared thread pool it competed
 * with the event loop on equal terms. At most `threads` run; jobs beyond them wait here in order.
 * A thread starts with the first job that needs it and ends after `idleMs` without one.
 */
export function createThreadedArgon2id({
  threads,
  nice,
  idleMs = 30_000,
}: {
  threads: number
  nice: number
  idleMs?: number
}): ThreadedArgon2id {
  const slots: (Thread | undefined)[] = Array.from({ length: threads }, () => undefined)
  const queue: Pending[] = []
  let closed = false

  const end = (thread: Thread) => {
    clearTimeout(thread.idle)
    thread.worker.terminate()
    const index = slots.indexOf(thread)
    if (index !== -1) slots[index] = undefined
  }

  const start = (): Thread => {
    const thread: Thread = { worker: new Worker(new URL('./argon2id-thread.ts', import.meta.url).href) }
    thread.worker.postMessage({ nice })
    // Hashing threads must not keep the process alive.
    thread.worker.unref()
    thread.worker.onmessage = (event: MessageEvent<HashOutcome>) => {
      const running = thread.running
      thread.running = undefined
      running?.settle(event.data)
      next(thread)
    }
    thread.worker.onerror = (event) => {
      // A thread that failed is replaced by the next job; its own job is refused, never lost in silence.
      const running = thread.running
      end(thread)
      running?.settle({ error: event.message || 'the hashing thread failed' })
      pump()
    }
    return thread
  }

  /** Gives the thread the next waiting job, or lets it end after a while without one. */
  const next = (thread: Thread) => {
    const pending = queue.shift()
    if (!pending) {
      thread.idle = setTimeout(() => end(thread), idleMs)
      thread.idle.unref?.()
      return
    }
    clearTimeout(thread.idle)
    thread.running = pending
    thread.worker.postMessage(pending.job)
  }

  /** Starts waiting jobs on idle threads, starting threads up to the limit. */
  const pump = () => {
    while (queue.length > 0) {
      let thread = slots.find((candidate) => candidate && !candidate.running)
      if (!thread) {
        const free = slots.indexOf(undefined)
        if (free === -1) return
        thread = slots[free] = start()
      }
      next(thread)
    }
  }

  const run = <T extends string | boolean>(job: HashJob): Promise<T> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new Error(STOPPED))
      queue.push({
        job,
        settle: (outcome) => ('error' in outcome ? reject(new Error(outcome.error)) : resolve(outcome.value as T)),
      })
      pump()
    })

  return {
    hash: (password, options) => run<string>({ op: 'hash', password, options }),
    verify: (password, hash) => run<boolean>({ op: 'verify', password, hash }),
    close() {
      closed = true
      const refused = [...queue.splice(0), ...slots.flatMap((thread) => (thread?.running ? [thread.running] : []))]
      for (const thread of slots) if (thread) end(thread)
      for (const pending of refused) pending.settle({ error: STOPPED })
    },
  }
}
