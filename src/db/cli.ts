// `bun run db:<command>`: dbmate with the project's folders and the service's configuration.
// Migrations connect to DATABASE_MIGRATION_URL, else DATABASE_URL; with neither, to the
// embedded PostgreSQL the service uses in development (loaded only then): the running service's
// cluster if it runs (left running), else started for the command and stopped again.
import { ConfigError, loadConfig, refuseEmbeddedInProduction } from '../config'
import { createLogger } from '../logger'
import { runDbmate } from './migrations'

const commands: Record<string, { args: (rest: string[]) => string[]; needsDatabase: boolean }> = {
  migrate: { args: () => ['--wait', '--no-dump-schema', 'up'], needsDatabase: true },
  rollback: { args: () => ['--no-dump-schema', 'rollback'], needsDatabase: true },
  status: { args: () => ['status'], needsDatabase: true },
  // Needs pg_dump of the server's major version (15) on PATH.
  dump: { args: () => ['dump'], needsDatabase: true },
  new: { args: (rest) => ['new', ...rest], needsDatabase: false },
}

async function run(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2)
  const command = name ? commands[name] : undefined
  if (!command) {
    console.error(`usage: bun src/db/cli.ts <${Object.keys(commands).join('|')}> [args]`)
    return 2
  }
  if (name === 'new' && rest.length !== 1) {
    console.error('usage: bun run db:new <name>')
    return 2
  }
  const config = loadConfig()
  const logger = createLogger({ level: config.logLevel, json: config.env === 'production' })
  if (!command.needsDatabase) return (await runDbmate(command.args(rest), undefined, { stdio: 'inherit' })).exitCode

  if (config.database.migrationUrl === undefined)
    refuseEmbeddedInProduction(config, 'DATABASE_MIGRATION_URL or DATABASE_URL')
  // Ctrl-C reaches dbmate too (same process group); this process outlives it to stop the cluster.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => {})
  const embedded = config.database.migrationUrl
    ? undefined
    : await import('../embedded-postgres').then(({ startEmbeddedPostgres }) =>
        startEmbeddedPostgres({ dataDir: config.dataDir, persistent: true, attach: true, logger }),
      )
  try {
    const url = config.database.migrationUrl ?? embedded!.url
    return (await runDbmate(command.args(rest), url, { stdio: 'inherit' })).exitCode
  } finally {
    await embedded?.stop()
  }
}

run()
  .then((code) => process.exit(code))
  .catch((error) => {
    console.error(error instanceof ConfigError ? error.message : error instanceof Error ? error.message : error)
    process.exit(1)
  })
