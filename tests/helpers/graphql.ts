import { Client, fetchExchange } from "@urql/core";
import { createClient as createSseClient } from "graphql-sse";
import type { TestApp } from "./app.ts";

/** The app on a real port: GraphQL clients speak HTTP (and SSE) to it, as a mobile app does. */
export type ServedApp = { url: string; stop(): void };

export function serveApp(app: TestApp): ServedApp {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    // SSE streams stay open for as long as a subscription lasts.
    idleTimeout: 0,
    fetch: (req, srv) => app.serve!(req, srv),
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

/** urql, the GraphQL client of our apps, over plain HTTP (no cache: every query reaches the server). */
export function graphqlClient(base: ServedApp, headers: Record<string, string> = {}): Client {
  return new Client({
    url: `${base.url}/v1/graphql`,
    exchanges: [fetchExchange],
    requestPolicy: "network-only",
    preferGetMethod: false,
    fetchOptions: () => ({ headers }),
  });
}

/** graphql-sse's client in distinct-connections mode (one SSE stream per subscription), as yoga serves it. */
export function sseClient(base: ServedApp, headers: Record<string, string> = {}) {
  return createSseClient({ url: `${base.url}/v1/graphql`, headers, retryAttempts: 0 });
}

/** Collects a subscription's values; `next(n)` waits (with a deadline) until n values have arrived. */
export function collect<T>(
  client: ReturnType<typeof sseClient>,
  payload: { query: string; variables?: Record<string, unknown> },
) {
  const values: T[] = [];
  const errors: unknown[] = [];
  let done = false;
  let wake: (() => void) | undefined;
  const dispose = client.subscribe<T>(payload, {
    next: (v) => {
      values.push(v.data as T);
      if (v.errors) errors.push(...v.errors);
      wake?.();
    },
    error: (e) => {
      errors.push(e);
      done = true;
      wake?.();
    },
    complete: () => {
      done = true;
      wake?.();
    },
  });
  return {
    values,
    errors,
    get done() {
      return done;
    },
    dispose,
    async until(check: () => boolean, timeoutMs = 30_000, what = "subscription values") {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(values)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 250);
        });
      }
    },
  };
}
