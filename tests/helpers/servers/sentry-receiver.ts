/**
 * A local endpoint that accepts Sentry envelopes (what sentry.io's ingest does) and keeps the events, so tests
 * can assert what error tracking would show. DSN: `http://<key>@127.0.0.1:<port>/<project>`.
 */
export type SentryEvent = {
  event_id: string;
  release?: string;
  environment?: string;
  level?: string;
  platform?: string;
  server_name?: string;
  timestamp?: number;
  exception?: {
    values: {
      type: string;
      value: string;
      stacktrace?: { frames: { filename: string; function: string; lineno?: number; in_app: boolean }[] };
      mechanism?: { type: string; handled: boolean; synthetic?: boolean };
    }[];
  };
  tags?: Record<string, string>;
  user?: Record<string, unknown>;
  contexts?: { trace?: { trace_id?: string; span_id?: string }; job?: Record<string, unknown> };
};

export type SentryReceiver = {
  readonly dsn: string;
  readonly events: SentryEvent[];
  /** The raw envelopes, to check that nothing personal was sent anywhere in them. */
  readonly raw: string[];
  /** The `X-Sentry-Auth` header of each envelope request, in order. */
  readonly auth: (string | null)[];
  stop(): Promise<void>;
};

/**
 * `answer` replaces the ingest's answer to an envelope (after it was recorded), e.g. a 429 with rate limits
 * or a response that never comes; return undefined for the normal one.
 */
export function startSentryReceiver(
  answer?: (envelopeIndex: number) => Promise<Response | undefined> | Response | undefined,
): SentryReceiver {
  const events: SentryEvent[] = [];
  const raw: string[] = [];
  const auth: (string | null)[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || url.pathname !== "/api/7/envelope/")
        return new Response(null, { status: 404 });
      const text = await req.text();
      raw.push(text);
      auth.push(req.headers.get("x-sentry-auth"));
      // An envelope: a header line, then (item header line, item payload line) pairs.
      const lines = text.split("\n").filter((l) => l.length > 0);
      for (let i = 1; i + 1 < lines.length; i += 2) {
        const header = JSON.parse(lines[i] ?? "{}") as { type?: string };
        if (header.type === "event") events.push(JSON.parse(lines[i + 1] ?? "{}") as SentryEvent);
      }
      const special = await answer?.(raw.length - 1);
      return special ?? Response.json({ id: events.at(-1)?.event_id ?? null });
    },
  });
  return {
    dsn: `http://publickey@127.0.0.1:${server.port}/7`,
    events,
    raw,
    auth,
    stop: () => server.stop(true),
  };
}
