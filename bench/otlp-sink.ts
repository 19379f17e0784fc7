/** An OTLP/HTTP receiver for the tracing bench: counts the spans it is sent (GET /count) and drops them. */
let spans = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  async fetch(req) {
    if (req.method === "GET") return Response.json({ spans });
    spans += ((await req.text()).match(/"spanId"/g) ?? []).length;
    return Response.json({});
  },
});
console.log(`otlp sink on ${server.port}`);
