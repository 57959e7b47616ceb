// What the resilience suite measured, gathered across its files and printed once at the end of the
// run (test/preload.ts): fuzz cases and failures by check, writes acknowledged and lost per fault,
// slowest answers, recovery times. `bun run test:resilience` runs just that suite.

type Row = Record<string, string | number>
const sections = new Map<string, Row[]>()

/** Adds a row to a section of the summary. */
export function report(section: string, row: Row): void {
  const rows = sections.get(section) ?? []
  rows.push(row)
  sections.set(section, rows)
}

/** Prints every section as a table, if anything was reported. */
export function printReport(): void {
  if (sections.size === 0) return
  console.log('\nResilience summary')
  for (const [section, rows] of sections) {
    console.log(`\n${section}`)
    console.table(rows)
  }
}
