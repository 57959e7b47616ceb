// Sweeping out rows that have outlived their use (old login attempts, ended sessions, expired
// idempotency keys) on the back of the requests that make them: no timer of its own, at most once
// per interval per instance, in batches small enough never to hold a table for long.

/** Deletes up to `batch` rows that are no longer needed; answers how many it deleted. */
export type Prune = (batch: number) => Promise<number>

/** How often an instance sweeps, at most. */
const PRUNE_EVERY_MS = 10 * 60 * 1000
/** Rows per delete, and deletes per sweep: what is left waits for the next sweep. */
const PRUNE_BATCH = 1000
const PRUNE_MAX_BATCHES = 20

/** A function to call after each request that adds rows: it runs `prunes` when the interval is up. */
export function sweeperOf(...prunes: Prune[]): () => void {
  let prunedAt = performance.now()
  const sweep = async (prune: Prune) => {
    for (let round = 0; round < PRUNE_MAX_BATCHES; round++) {
      if ((await prune(PRUNE_BATCH)) < PRUNE_BATCH) return
    }
  }
  return () => {
    if (performance.now() - prunedAt < PRUNE_EVERY_MS) return
    prunedAt = performance.now()
    Promise.all(prunes.map(sweep)).catch(() => {
      // Tried again at the next interval; nothing depends on it meanwhile.
    })
  }
}
