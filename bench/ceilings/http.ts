// Ceiling 1, HTTP: a bare Bun.serve answering every request with the same JSON body that
// `GET /users/{id}` answers. Nothing a service does could be faster over HTTP on this machine.
const body = process.env.BENCH_BODY ?? '{}'
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  fetch: () => new Response(body, { headers: { 'content-type': 'application/json' } }),
})
console.log(`listening ${server.port}`)
