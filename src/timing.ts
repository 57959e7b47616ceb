/** Outcome of waiting for a promise at most `ms`: its value, or that time ran out (it keeps running). */
export type Within<T> = { done: true; value: T } | { done: false }

/** Waits for `promise` at most `ms` milliseconds; rejects if it rejects in time. Clears its timer either way. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<Within<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<Within<T>>((resolve) => (timer = setTimeout(() => resolve({ done: false }), ms)))
  try {
    return await Promise.race([promise.then((value): Within<T> => ({ done: true, value })), timeout])
  } finally {
    clearTimeout(timer)
  }
}
