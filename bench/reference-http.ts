/** The HTTP ceiling: a bare Bun.serve answering the same bytes as GET /v1/species/{id}. */
const body = process.env.BENCH_BODY ?? "{}";
Bun.serve({
  port: Number(process.env.PORT),
  hostname: "127.0.0.1",
  fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
});
