// A preload (`bun --preload <this file> ...`) that prints `LOADED <file>` for every file of the embedded
// PostgreSQL module the process loads: how the tests see that production never loads it.
import { plugin } from 'bun'

plugin({
  name: 'trace-embedded-postgres',
  setup(build) {
    build.onLoad({ filter: /\/src\/embedded-postgres\// }, async ({ path }) => {
      console.log(`LOADED ${path}`)
      return { contents: await Bun.file(path).text(), loader: 'ts' }
    })
  },
})
