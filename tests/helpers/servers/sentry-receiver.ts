/**
 * A local endpoint that accepts Sentry envelopes (what sentry.io's ingest does) and keeps the events, so tests
 * can assert what error tracking would show. DSN: `http://<key>@127.0.0.1:<port>/<project>`.
 */
export type SentryEvent = {
  event_id: string;
  release?: string;
  environment?: string;
  level?: string;
  exception?: { values: { type: string; value: string }[] };
  tags?: Record<string, string>;
  user?: Record<string, unknown>;
  contexts?: { trace?: { trace_id?: string; span_id?: string }; job?: Record<string, unknown> };
};

export type SentryReceiver = {
  readonly dsn: string;
  readonly events: SentryEvent[];
  /** The raw envelopes, to check that nothing personal was sent anywhere in them. */
  readonly raw: string[];
  stop(): Promise<void>;
};

export function startSentryReceiver(): SentryReceiver {
  const events: SentryEvent[] = [];
  const raw: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || url.pathname !== "/api/7/envelope/")
        return new Response(null, { status: 404 });
      const text = await req.text();
      raw.push(text);
      // An envelope: a header line, then (item header line, item payload line) pairs.
      const lines = text.split("\n").filter((l) => l.length > 0);
      for (let i = 1; i + 1 < lines.length; i += 2) {
        const header = JSON.parse(lines[i] ?? "{}") as { type?: string };
        if (header.type === "event") events.push(JSON.parse(lines[i + 1] ?? "{}") as SentryEvent);
      }
      return Response.json({ id: events.at(-1)?.event_id ?? null });
    },
  });
  return {
    dsn: `http://publickey@127.0.0.1:${server.port}/7`,
    events,
    raw,
    stop: () => server.stop(true),
  };
}
