import { UnavailableError } from './errors'

export interface GateOptions {
  /** How many tasks may run at once. */
  permits: number
  /** How many tasks may wait for a permit; one more is refused at once. */
  maxWaiting: number
  /** How long a task may wait for a permit before it is refused. */
  maxWaitMs: number
  /** What a refused task is told: an UnavailableError with this code and message. */
  busy: { code: UnavailableError['code']; message: string }
}

interface Waiter {
  grant: () => void
  timer: ReturnType<typeof setTimeout>
}

/**
 * A counting semaphore with a bounded, time-limited wait. It keeps work that must not pile up
 * (database queries past the pool size, memory-hungry password hashes) from queueing without
 * bound: past the wait, the caller is refused (UnavailableError, with a retry hint) instead of a
 * slow death.
 */
export class Gate {
  private active = 0
  private readonly waiters: Waiter[] = []

  constructor(private readonly options: GateOptions) {
    if (options.permits < 1) throw new RangeError('A gate needs at least one permit')
  }

  get inFlight(): number {
    return this.active
  }

  get waiting(): number {
    return this.waiters.length
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await task()
    } finally {
      this.release()
    }
  }

  /** Runs the task only if a permit is free right now; otherwise returns undefined without waiting. */
  async runIfFree<T>(task: () => Promise<T>): Promise<T | undefined> {
    if (this.active >= this.options.permits) return undefined
    this.active++
    try {
      return await task()
    } finally {
      this.release()
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.options.permits) {
      this.active++
      return Promise.resolve()
    }
    if (this.waiters.length >= this.options.maxWaiting) return Promise.reject(this.busy())
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        // The permit passes straight from the releasing task to this one, so `active` stays put.
        grant: () => {
          clearTimeout(waiter.timer)
          resolve()
        },
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          reject(this.busy())
        }, this.options.maxWaitMs),
      }
      this.waiters.push(waiter)
    })
  }

  private release(): void {
    const next = this.waiters.shift()
    if (next) next.grant()
    else this.active--
  }

  private busy(): UnavailableError {
    const { code, message } = this.options.busy
    return new UnavailableError(code, message, Math.min(5, Math.max(1, this.options.maxWaitMs / 1000)))
  }
}
