// Ceiling 2, the database: postgres.js running the statement behind `GET /users/{id}` with the same
// pool, as many statements in flight as the pool has connections, and no HTTP at all.
import postgres from 'postgres'
import { type LoadResult, percentile } from '../load'
import { readUser } from './statements'

export async function databaseCeiling(options: {
  url: string
  pool: number
  seconds: number
  caller: { userId: string; sessionId: string }
  users: number
}): Promise<LoadResult> {
  const sql = postgres(options.url, { max: options.pool, onnotice: () => {} })
  const latencies: number[] = []
  let errors = 0
  const started = performance.now()
  const until = started + options.seconds * 1000
  const worker = async () => {
    while (performance.now() < until) {
      const id = String(1 + Math.floor(Math.random() * options.users))
      const began = performance.now()
      try {
        await readUser(sql, options.caller.userId, options.caller.sessionId, id)
      } catch {
        errors++
      }
      latencies.push(performance.now() - began)
    }
  }
  try {
    await Promise.all(Array.from({ length: options.pool }, worker))
  } finally {
    await sql.end()
  }
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    p999: percentile(latencies, 0.999),
    errors,
  }
}
