// The results as a Markdown table (bench/results/latest.md) and a chart (latest.svg): each
// scenario's requests/s and p99 beside the ceilings measured in the same run.
import type { LoadResult } from './load'

export interface Row {
  name: string
  title: string
  service: LoadResult & { peakMiB: number }
  minimal?: LoadResult
  /** Set on rows whose requests/s is compared with the HTTP and database ceilings. */
  ceilings?: { http: LoadResult; database: LoadResult }
  note?: string
  /** Set on rows measured at a steady offered rate (requests/s), not at saturation. */
  rate?: number
}

export interface Machine {
  cpu: string
  cores: number
  loadBefore: number[]
  versions: Record<string, string>
  seconds: number
  connections: number
  loadGenerator: string
}

const fixed = (n: number, digits = 1) => n.toFixed(digits)
const ratio = (a: number, b: number | undefined) => (b ? `${fixed((a / b) * 100, 0)}%` : '—')
const comparable = (row: Row) => row.minimal !== undefined && row.service.errors === 0 && row.minimal.errors === 0

export function markdown(all: Row[], machine: Machine, extra: string[] = []): string {
  const rows = all.filter((row) => row.rate === undefined)
  const steady = all.filter((row) => row.rate !== undefined)
  const head = [
    '# Benchmark results',
    '',
    `${machine.cpu}, ${machine.cores} cores, load average before the run ${machine.loadBefore.map((n) => fixed(n, 2)).join(' ')}. ` +
      `${machine.loadGenerator}, ${machine.connections} connections, ${machine.seconds} s per scenario after a warm-up, on the same machine.`,
    '',
    Object.entries(machine.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', '),
    '',
    'Absolute numbers on a shared 2-core machine swing several-fold between runs: compare the ratios, measured in the same run.',
    '"Minimal" is the least a Bun service can do for the same authenticated answer (bench/ceilings/minimal.ts); ' +
      '"HTTP" a bare Bun.serve answering the same body; "database" postgres.js running the same statement with no HTTP. ' +
      "The service and its minimal handler run in alternating slices (service, minimal, minimal, service, service, minimal, ..., five each), so that the machine drifting during the run, and other tenants taking the CPUs in bursts, weigh on both alike: req/s over all slices, each percentile the median of the slices' (a row with errors on either side is not compared).",
    '',
    '| scenario | req/s | p50 ms | p99 ms | p99.9 ms | errors | peak RSS MiB | vs minimal req/s | p99 vs minimal | vs HTTP req/s | vs database req/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const lines = rows.map((row) => {
    const s = row.service
    const cells = [
      row.title + (row.note ? ` (${row.note})` : ''),
      fixed(s.rps, 0),
      fixed(s.p50, 2),
      fixed(s.p99, 2),
      fixed(s.p999, 2),
      String(s.errors),
      fixed(s.peakMiB, 0),
      // A side that answered errors (a deadline met, a slice cut short) is not compared.
      ratio(s.rps, comparable(row) ? row.minimal?.rps : undefined),
      comparable(row) ? `${fixed(s.p99 / row.minimal!.p99, 2)}×` : '—',
      ratio(s.rps, row.ceilings?.http.rps),
      ratio(s.rps, row.ceilings?.database.rps),
    ]
    return `| ${cells.join(' | ')} |`
  })
  const ceilings = rows
    .flatMap((row) => [
      ...(row.minimal ? [[`minimal handler: ${row.title}`, row.minimal] as const] : []),
      ...(row.ceilings
        ? [
            [`HTTP ceiling (bare Bun.serve)`, row.ceilings.http] as const,
            [`database ceiling (postgres.js, no HTTP)`, row.ceilings.database] as const,
          ]
        : []),
    ])
    .map(
      ([title, r]) =>
        `| ${title} | ${fixed(r.rps, 0)} | ${fixed(r.p50, 2)} | ${fixed(r.p99, 2)} | ${fixed(r.p999, 2)} | ${r.errors} |`,
    )
  return [
    ...head,
    ...lines,
    '',
    '## The ceilings, in the same run',
    '',
    '| ceiling | req/s | p50 ms | p99 ms | p99.9 ms | errors |',
    '|---|---:|---:|---:|---:|---:|',
    ...ceilings,
    ...(steady.length ? ['', ...latencyTable(steady, machine)] : []),
    ...(extra.length ? ['', ...extra] : []),
    '',
  ].join('\n')
}

function latencyTable(rows: Row[], machine: Machine): string[] {
  return [
    '## Latency at a steady rate',
    '',
    `The same ${machine.connections} connections, each waiting a random (exponential) gap between requests, so that together they offer a set rate: ` +
      'a share of what the minimal handler serves at saturation for that route, measured just before. ' +
      'At saturation every closed-loop connection waits in the queue (mean latency = connections / throughput), so latency targets are read here. ' +
      'The mixed rows add writes (a tenth of the rate) and 10 connections logging in as fast as they can, hashing passwords.',
    '',
    '| scenario | offered req/s | req/s | p50 ms | p99 ms | p99.9 ms | errors | minimal req/s | minimal p99 ms | p99 vs minimal |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((row) => {
      const s = row.service
      const m = row.minimal
      const cells = [
        row.title,
        fixed(row.rate ?? 0, 0),
        fixed(s.rps, 0),
        fixed(s.p50, 2),
        fixed(s.p99, 2),
        fixed(s.p999, 2),
        String(s.errors),
        m ? fixed(m.rps, 0) : '—',
        m ? fixed(m.p99, 2) : '—',
        m ? `${fixed(s.p99 / m.p99, 2)}×` : '—',
      ]
      return `| ${cells.join(' | ')} |`
    }),
  ]
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/**
 * Horizontal bars: for each scenario, the service's req/s beside its minimal handler's (and the bare
 * HTTP ceiling, drawn off scale when it dwarfs the rest), and the p99 latencies beside them.
 */
export function svg(all: Row[]): string {
  const rows = all.filter((row) => row.rate === undefined)
  const steady = all.filter((row) => row.rate !== undefined)
  const width = 1180
  const rowHeight = 50
  const left = 380
  const barWidth = 300
  const p99Left = left + barWidth + 190
  const p99Width = 200
  const maxRps = Math.max(...rows.flatMap((row) => [row.service.rps, row.minimal?.rps ?? 0]))
  const maxP99 = Math.max(...rows.flatMap((row) => [row.service.p99, row.minimal?.p99 ?? 0]))
  const steadyTop = 70 + rows.length * rowHeight + 20
  const steadyRow = 32
  const height = steadyTop + (steady.length ? 40 + steady.length * steadyRow : 0) + 10
  const bar = (x: number, y: number, value: number, max: number, span: number, colour: string, label: string) => {
    const offScale = value > max
    const w = Math.max(1, (Math.min(value, max) / max) * span)
    const text = offScale ? `${label} (off scale)` : label
    return `<rect x="${x}" y="${y}" width="${w.toFixed(1)}" height="12" fill="${colour}"/><text x="${(x + w + 4).toFixed(1)}" y="${y + 10}" font-size="10">${escapeXml(text)}</text>`
  }
  const parts = rows.map((row, i) => {
    const y = 60 + i * rowHeight
    const rps = [
      bar(left, y, row.service.rps, maxRps, barWidth, '#2f6fde', `${row.service.rps.toFixed(0)}/s service`),
      row.minimal
        ? bar(left, y + 14, row.minimal.rps, maxRps, barWidth, '#9db8ea', `${row.minimal.rps.toFixed(0)}/s minimal`)
        : '',
      row.ceilings
        ? bar(
            left,
            y + 28,
            row.ceilings.http.rps,
            maxRps,
            barWidth,
            '#c8c8c8',
            `${row.ceilings.http.rps.toFixed(0)}/s bare HTTP`,
          )
        : '',
    ]
    const p99 = [
      bar(p99Left, y, row.service.p99, maxP99, p99Width, '#de6f2f', `${row.service.p99.toFixed(1)} ms`),
      row.minimal
        ? bar(p99Left, y + 14, row.minimal.p99, maxP99, p99Width, '#eab89d', `${row.minimal.p99.toFixed(1)} ms minimal`)
        : '',
    ]
    return `<text x="10" y="${y + 10}" font-size="12">${escapeXml(row.title)}</text>${rps.join('')}${p99.join('')}`
  })
  // Latency at a steady rate has a scale of its own: milliseconds, not the lists' hundreds.
  const maxSteady = Math.max(...steady.flatMap((row) => [row.service.p99, row.minimal?.p99 ?? 0]))
  const steadyParts = steady.map((row, i) => {
    const y = steadyTop + 40 + i * steadyRow
    return [
      `<text x="10" y="${y + 10}" font-size="12">${escapeXml(row.title)}</text>`,
      bar(left, y, row.service.p99, maxSteady, barWidth, '#de6f2f', `${row.service.p99.toFixed(1)} ms`),
      row.minimal
        ? bar(left, y + 14, row.minimal.p99, maxSteady, barWidth, '#eab89d', `${row.minimal.p99.toFixed(1)} ms minimal`)
        : '',
    ].join('')
  })
  const steadyHead = steady.length
    ? [
        `<text x="10" y="${steadyTop + 20}" font-size="14" font-weight="bold">p99 latency at a steady rate (a share of the minimal handler's requests/s)</text>`,
        `<text x="${left}" y="${steadyTop + 34}" font-size="12">service (orange), minimal handler (light)</text>`,
      ]
    : []
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" role="img">`,
    '<title>Benchmark: the service beside its ceilings</title>',
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="16" font-weight="bold">Requests/s and p99: the service beside the ceilings, in one run</text>`,
    `<text x="${left}" y="46" font-size="12">requests/s: service (blue), minimal handler (light), bare HTTP (grey)</text>`,
    `<text x="${p99Left}" y="46" font-size="12">p99 latency: service (orange), minimal (light)</text>`,
    ...parts,
    ...steadyHead,
    ...steadyParts,
    '</svg>',
    '',
  ].join('\n')
}
