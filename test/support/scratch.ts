// A database of its own on the test server, for tests that break things (locks, missing tables,
// migrations down and up). It is created here and dropped here, never anything else.
import postgres from 'postgres'
import { applyMigrations } from '../../src/db/migrations'
import { databaseUrl } from './context'

export interface ScratchDatabase {
  url: string
  name: string
  drop(): Promise<void>
}

export async function createScratchDatabase(options: { migrated?: boolean } = {}): Promise<ScratchDatabase> {
  const name = `scratch_${crypto.randomUUID().replaceAll('-', '')}`
  const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} })
  await admin`create database ${admin(name)}`
  const url = new URL(databaseUrl())
  url.pathname = `/${name}`
  if (options.migrated) await applyMigrations(url.toString())
  return {
    url: url.toString(),
    name,
    async drop() {
      await admin`drop database if exists ${admin(name)} with (force)`
      await admin.end()
    },
  }
}
